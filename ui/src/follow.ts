// Following the migration: the pages that show it (Upload, Dashboard) draw its view now and again
// whenever Rust pushes a change, and only when something shown changed (which keeps the focus and
// the keyboard position steady).

import { asUiError, migrationView, watchMigration, type MigrationView } from "./api.js";
import { errorBox, replace } from "./dom.js";

export function followMigration(render: (view: MigrationView | null) => void, status: HTMLElement): void {
  let shown = "";
  const onUpdate = (view: MigrationView | null): void => {
    const text = JSON.stringify(view);
    if (text === shown) return;
    shown = text;
    render(view);
  };
  void (async () => {
    try {
      onUpdate(await migrationView());
      await watchMigration(onUpdate);
    } catch (err) {
      replace(status, errorBox("The migration could not be read", asUiError(err)));
    }
  })();
}
