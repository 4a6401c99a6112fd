//! Writes the seed corpus for the `read_backup` fuzz target with the synthetic backup writer, so no
//! real backup file is ever committed: `cargo run --manifest-path fuzz/Cargo.toml --example
//! make_seeds -- fuzz/corpus/read_backup`.

use std::path::PathBuf;

use lrs_core::backup::writer::{striped, write_sets, SyntheticBackup};
use lrs_core::backup::{BackupKind, Lsn};

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus/read_backup".into()));
    std::fs::create_dir_all(&dir)?;
    let full = SyntheticBackup { data_len: 3000, block_size: 512, ..SyntheticBackup::full("Fz") };
    let diff = SyntheticBackup { data_len: 3000, ..SyntheticBackup::diff_of(&full) };
    let log = SyntheticBackup { data_len: 1000, ..SyntheticBackup::log_after(&diff) };
    let mut seeds: Vec<(String, Vec<u8>)> = vec![
        ("full-512".into(), full.to_bytes()),
        ("diff-512".into(), diff.to_bytes()),
        ("log-512".into(), log.to_bytes()),
        ("log-512-nochecksum".into(), SyntheticBackup { has_checksum: false, ..log.clone() }.to_bytes()),
        ("log-512-empty".into(), SyntheticBackup { data_len: 0, last_lsn: log.first_lsn, ..log.clone() }.to_bytes()),
        ("log-1024".into(), SyntheticBackup { block_size: 1024, ..log.clone() }.to_bytes()),
        (
            "full-4096-password".into(),
            SyntheticBackup { block_size: 4096, password_protected: true, ..full.clone() }.to_bytes(),
        ),
        (
            "full-512-head-lsns".into(),
            SyntheticBackup {
                head_lsns: Some((Lsn::new(1, 2, 3), Lsn::new(1, 3, 1), Lsn::new(1, 2, 3))),
                ..full.clone()
            }
            .to_bytes(),
        ),
        ("other-512".into(), SyntheticBackup { kind: BackupKind::Other, ..full.clone() }.to_bytes()),
    ];
    for stripe in striped(&full, 2) {
        seeds.push((format!("stripe-{}-of-2", stripe.family_sequence), stripe.to_bytes()));
    }
    // Truncated copies: no trailer, and no end of set.
    let whole = log.to_bytes();
    seeds.push(("log-512-cut-half".into(), whole.get(..whole.len() / 2).unwrap_or_default().to_vec()));
    seeds.push(("log-512-cut-tail".into(), whole.get(..whole.len() - 1536).unwrap_or_default().to_vec()));
    let mut compressed = b"MSSQLBAK".to_vec();
    compressed.extend_from_slice(&[0; 56]);
    seeds.push(("mssqlbak".into(), compressed));
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(name), bytes)?;
    }
    // Several sets in one file (Position 1..3).
    let on_media =
        |set: &SyntheticBackup| SyntheticBackup { media_set_id: full.media_set_id, block_size: 512, ..set.clone() };
    write_sets(&dir.join("three-sets-512"), &[full.clone(), on_media(&diff), on_media(&log)])?;
    // Seeds for `read_backup_declared_len`: a declared length, then the file.
    let declared_dir = dir.with_file_name("read_backup_declared_len");
    std::fs::create_dir_all(&declared_dir)?;
    for (name, bytes) in &seeds {
        let len = bytes.len() as u64;
        for (suffix, declared) in [("exact", len), ("longer", len + 4096), ("shorter", len / 2)] {
            let mut input = declared.to_le_bytes().to_vec();
            input.extend_from_slice(bytes);
            std::fs::write(declared_dir.join(format!("{name}-{suffix}")), input)?;
        }
    }
    println!("wrote {} seeds to {} and {}", seeds.len() + 1, dir.display(), declared_dir.display());
    Ok(())
}
