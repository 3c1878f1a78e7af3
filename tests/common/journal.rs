//! A fresh journal path for the bulk tests (also included on its own by tests that do not
//! use the rest of `common`).

use std::path::PathBuf;

/// A path in the temp directory no file holds, unique to this process and moment:
/// `instructor-bulk-{name}-{pid}-{nanos}.jsonl`.
pub fn temp_journal(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "instructor-bulk-{name}-{}-{:x}.jsonl",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let _ = std::fs::remove_file(&path);
    path
}
