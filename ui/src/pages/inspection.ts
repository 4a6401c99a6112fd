// Renders an Inspection exactly as Rust returned it: per database the verdict, the restore chain
// as a time line, the findings with their fixes and the files; then the unreadable files.

import type { Inspection } from "../api.js";
import type { DatabaseReport } from "../bindings/DatabaseReport";
import type { FileReport } from "../bindings/FileReport";
import type { Finding } from "../bindings/Finding";
import type { UnreadableFile } from "../bindings/UnreadableFile";
import { displayTime, fileName, h } from "../dom.js";

export function inspectionView(inspection: Inspection): HTMLElement {
  const fileCount = inspection.databases.reduce((n, db) => n + db.files.length, 0);
  const summary = `${plural(inspection.databases.length, "database")} · ${plural(fileCount, "backup file")}` +
    (inspection.unreadable.length ? ` · ${inspection.unreadable.length} unreadable` : "");
  return h("div", { class: "inspection", testid: "inspection" },
    h("p", { class: "summary", testid: "summary" }, summary),
    inspection.databases.length === 0 && inspection.unreadable.length === 0
      ? h("div", { class: "alert info", testid: "empty" }, "No backup files were found there.")
      : null,
    ...inspection.databases.map(databaseView),
    inspection.unreadable.length ? unreadableView(inspection.unreadable) : null,
  );
}

function databaseView(db: DatabaseReport, index: number): HTMLElement {
  // Two databases may share a name (different family GUIDs), so the id is positional.
  const titleId = `db-${index}`;
  return h("section", { class: "card database", testid: "database", "aria-labelledby": titleId },
    h("header", { class: "database-header" },
      h("h2", { id: titleId, testid: "db-name" }, db.name),
      h("span", { class: `verdict ${db.restorable ? "ok" : "bad"}`, testid: "db-verdict" },
        db.restorable ? "Restorable" : "Not restorable"),
    ),
    h("dl", { class: "facts" },
      h("dt", {}, "Folder in the container"), h("dd", { class: "mono" }, db.folder),
      h("dt", {}, "Last backup (for autocomplete)"), h("dd", { class: "mono" }, db.last_backup_name ?? "—"),
    ),
    h("h3", {}, "Restore chain"),
    chainView(db),
    h("h3", {}, `Findings (${db.findings.length})`),
    db.findings.length
      ? h("ul", { class: "findings", testid: "findings" }, ...db.findings.map(findingView))
      : h("p", { class: "muted", testid: "no-findings" }, "Nothing to fix."),
    h("h3", {}, "Files"),
    filesTable(db.files),
  );
}

function chainView(db: DatabaseReport): HTMLElement {
  if (db.restore_sequence.length === 0) {
    return h("p", { class: "muted", testid: "chain-empty" }, "No restore sequence: see the findings.");
  }
  // Only files in the sequence: a file holding several backup sets appears more than once in files.
  const inSequence = db.files.filter((f) => f.role === "full" || f.role === "diff" || f.role === "log");
  const byPath = new Map(inSequence.map((f) => [f.path, f]));
  const steps = db.restore_sequence.map((path, index) => {
    const file = byPath.get(path);
    const role = file?.role ?? "step";
    const lsn = file ? `LSN ${file.first_lsn} → ${file.last_lsn}` : "";
    return h("li", { class: `step ${role}`, testid: "chain-step", "data-role": role, title: `${path}\n${lsn}`, tabindex: 0 },
      h("span", { class: "step-index" }, index + 1),
      h("span", { class: "step-kind" }, role),
      h("span", { class: "step-file" }, fileName(path)),
      h("span", { class: "step-time" }, file ? displayTime(file.backup_start) : ""),
    );
  });
  return h("div", { class: "timeline-scroll" },
    h("ol", { class: "timeline", testid: "chain", "aria-label": "Restore order" }, ...steps));
}

function findingView(finding: Finding): HTMLElement {
  return h("li", { class: `finding ${finding.severity}`, testid: "finding", "data-code": finding.code, "data-severity": finding.severity },
    h("div", { class: "finding-head" },
      h("span", { class: "severity" }, finding.severity),
      h("code", { class: "finding-code" }, finding.code),
      finding.file ? h("span", { class: "finding-file mono" }, fileName(finding.file)) : null,
    ),
    h("p", { class: "finding-message" }, finding.problem),
    finding.fix ? h("p", { class: "finding-fix" }, h("strong", {}, "Fix: "), finding.fix) : null,
  );
}

function filesTable(files: FileReport[]): HTMLElement {
  const head = ["File", "Kind", "Started", "LSN range (first → last)", "Checksum", "Role", "Upload as"];
  return h("div", { class: "table-scroll" },
    h("table", { class: "files", testid: "files" },
      h("thead", {}, h("tr", {}, ...head.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, ...files.map((f) =>
        h("tr", { testid: "file-row", "data-role": f.role },
          h("td", { class: "mono", title: f.path }, fileName(f.path)),
          h("td", {}, f.kind),
          h("td", { class: "nowrap" }, displayTime(f.backup_start)),
          h("td", { class: "mono lsn" }, h("span", {}, f.first_lsn), h("span", {}, `→ ${f.last_lsn}`)),
          h("td", { class: f.has_checksum ? "yes" : "no" }, f.has_checksum ? "Yes" : "No"),
          h("td", {}, h("span", { class: `role ${f.role}` }, f.role.replace("_", " "))),
          h("td", { class: "mono" }, f.upload_name),
        ),
      )),
    ),
  );
}

function unreadableView(files: UnreadableFile[]): HTMLElement {
  return h("section", { class: "card unreadable", testid: "unreadable", "aria-labelledby": "unreadable-title" },
    h("h2", { id: "unreadable-title" }, `Files that are not readable backups (${files.length})`),
    h("ul", { class: "findings" }, ...files.map((f) =>
      h("li", { class: "finding error", testid: "unreadable-file", "data-code": f.code },
        h("div", { class: "finding-head" }, h("code", { class: "finding-code" }, f.code), h("span", { class: "mono" }, fileName(f.path))),
        h("p", { class: "finding-message" }, f.reason),
      ),
    )),
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
