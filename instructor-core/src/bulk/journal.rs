//! The journal of a bulk run: one JSON line per finished item, appended with one write and
//! flushed as the item finishes, and read back on resume.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Usage};

/// One journal line, as written.
#[derive(Serialize)]
pub(crate) struct Entry<'a> {
    pub key: &'a str,
    pub ok: Option<&'a Value>,
    pub error: Option<ErrorEntry<'a>>,
    pub usage: UsageEntry,
    pub attempts: usize,
}

/// A failed item's error in a journal line.
#[derive(Serialize)]
pub(crate) struct ErrorEntry<'a> {
    pub kind: &'a str,
    pub message: String,
}

/// [`Usage`] in a journal line.
#[derive(Serialize)]
pub(crate) struct UsageEntry {
    input_tokens: u64,
    output_tokens: u64,
    total_tokens: u64,
    requests: u32,
}

impl From<Usage> for UsageEntry {
    fn from(u: Usage) -> Self {
        Self {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            total_tokens: u.total_tokens,
            requests: u.requests,
        }
    }
}

/// What resume reads of a line: the key, and whether it failed.
#[derive(Deserialize)]
struct Seen {
    key: String,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

/// An open journal, appended to by every item of a run.
pub(crate) struct Journal {
    path: PathBuf,
    writer: Mutex<Writer>,
}

struct Writer {
    file: File,
    sync_every: u32,
    unsynced: u32,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

fn io_error(path: &Path, what: &str, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Journal {
        path: path.display().to_string(),
        message: format!("{what}: {e}"),
        source: Some(Box::new(e)),
    }
}

impl Journal {
    /// Opens (or creates) the journal at `path`: the keys it holds, each with whether its
    /// last line succeeded. A torn last line (no final newline: the process died while
    /// writing it) is cut away, or completed if it is a whole entry; any other line that
    /// is not an entry is an error, and the file is left as it was.
    pub(crate) fn open(
        path: &Path,
        sync_every: u32,
    ) -> Result<(Self, HashMap<String, bool>), Error> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| io_error(path, "cannot open", e))?;
        let mut seen = HashMap::new();
        let mut reader = BufReader::new(&file);
        let mut line = Vec::new();
        let mut good_end: u64 = 0;
        let mut number = 0usize;
        let mut torn = None;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| io_error(path, "cannot read", e))?;
            if read == 0 {
                break;
            }
            number += 1;
            let whole = line.last() == Some(&b'\n');
            let parsed = parse(&line);
            let not_an_entry =
                |e| io_error(path, &format!("line {number} is not a journal entry"), e);
            match (whole, parsed) {
                (true, Ok(entry)) => {
                    if let Some((key, ok)) = entry {
                        seen.insert(key, ok);
                    }
                    good_end += read as u64;
                }
                (true, Err(e)) => return Err(not_an_entry(e)),
                (false, Ok(entry)) => {
                    torn = Some(entry);
                    break;
                }
                (false, Err(e)) if !looks_torn(&line) => return Err(not_an_entry(e)),
                (false, Err(_)) => {
                    torn = Some(None);
                    break;
                }
            }
        }
        drop(reader);
        match torn {
            Some(Some((key, ok))) => {
                // A whole entry whose newline was not written: finish the line.
                file.write_all(b"\n")
                    .map_err(|e| io_error(path, "cannot write", e))?;
                seen.insert(key, ok);
            }
            Some(None) => {
                tracing::warn!(
                    journal = %path.display(),
                    "ignoring the torn last line of the bulk journal"
                );
                file.set_len(good_end)
                    .map_err(|e| io_error(path, "cannot truncate", e))?;
            }
            None => {}
        }
        let journal = Self {
            path: path.to_owned(),
            writer: Mutex::new(Writer {
                file,
                sync_every,
                unsynced: 0,
            }),
        };
        Ok((journal, seen))
    }

    /// Appends one entry as one line, with one write, and flushes it to the OS (it then
    /// survives the process being killed); every `sync_every` entries it is also synced to
    /// disk.
    pub(crate) fn append(&self, entry: &Entry<'_>) -> Result<(), Error> {
        let mut line =
            serde_json::to_vec(entry).map_err(|e| io_error(&self.path, "cannot encode", e))?;
        line.push(b'\n');
        let mut w = self.lock();
        w.file
            .write_all(&line)
            .and_then(|()| w.file.flush())
            .map_err(|e| io_error(&self.path, "cannot write", e))?;
        w.unsynced += 1;
        if w.sync_every > 0 && w.unsynced >= w.sync_every {
            w.unsynced = 0;
            w.file
                .sync_data()
                .map_err(|e| io_error(&self.path, "cannot sync", e))?;
        }
        Ok(())
    }

    /// Syncs what was written to disk (so it survives a power loss too).
    pub(crate) fn sync(&self) {
        let mut w = self.lock();
        if w.unsynced == 0 {
            return;
        }
        w.unsynced = 0;
        if let Err(e) = w.file.sync_data() {
            tracing::warn!(journal = %self.path.display(), error = %e, "cannot sync the bulk journal");
        }
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        super::lock(&self.writer)
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.sync();
    }
}

/// Whether an unfinished last line is what a killed writer leaves: the start of an entry
/// (every entry begins `{"key":`), or the zeros a file system may leave after a power loss.
fn looks_torn(line: &[u8]) -> bool {
    const START: &[u8] = b"{\"key\":";
    line.iter().zip(START).all(|(a, b)| a == b) || line.iter().all(|&b| b == 0)
}

/// A line's key and success; `None` for a blank line.
fn parse(line: &[u8]) -> Result<Option<(String, bool)>, serde_json::Error> {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let seen: Seen = serde_json::from_slice(text)?;
    Ok(Some((seen.key, seen.error.is_none())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "instructor-journal-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let _ = std::fs::remove_file(&path);
        path
    }

    fn entry<'a>(key: &'a str, ok: Option<&'a Value>) -> Entry<'a> {
        Entry {
            key,
            ok,
            error: ok.is_none().then(|| ErrorEntry {
                kind: "Timeout",
                message: "timed out".into(),
            }),
            usage: Usage::new(1, 1).into(),
            attempts: 1,
        }
    }

    #[test]
    fn appends_and_reads_back() {
        let path = temp("roundtrip");
        let value = serde_json::json!({"a": 1});
        {
            let (j, seen) = Journal::open(&path, 0).unwrap();
            assert!(seen.is_empty());
            j.append(&entry("a", Some(&value))).unwrap();
            j.append(&entry("b", None)).unwrap();
        }
        let (_, seen) = Journal::open(&path, 0).unwrap();
        assert_eq!(seen.get("a"), Some(&true));
        assert_eq!(seen.get("b"), Some(&false));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn torn_last_line_is_cut_and_bad_middle_line_is_an_error() {
        let path = temp("torn");
        std::fs::write(&path, "{\"key\":\"a\",\"ok\":1}\n{\"key\":\"b\",\"o").unwrap();
        let (_, seen) = Journal::open(&path, 0).unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"key\":\"a\",\"ok\":1}\n"
        );
        // A whole entry missing only its newline is kept.
        std::fs::write(&path, "{\"key\":\"a\",\"ok\":1}").unwrap();
        let (_, seen) = Journal::open(&path, 0).unwrap();
        assert_eq!(seen.len(), 1);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with('\n'));
        // Not a journal: refused, untouched.
        for other in ["hello\nworld", "hello"] {
            std::fs::write(&path, other).unwrap();
            assert!(matches!(
                Journal::open(&path, 0),
                Err(Error::Journal { .. })
            ));
            assert_eq!(std::fs::read_to_string(&path).unwrap(), other);
        }
        let _ = std::fs::remove_file(&path);
    }
}
