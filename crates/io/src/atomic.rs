//! Atomic output: a temporary file in the target's folder, renamed into place when complete,
//! so a reader (or a crash) never sees half a file.
//!
//! A symbolic link is followed: the file it points to is replaced (atomically, in that
//! file's folder), and the link stays a link. A target that exists and is not a regular file
//! (a character device such as `/dev/null` or a terminal, a FIFO, `/dev/stdout` on a pipe)
//! cannot be replaced by a rename, nor should it be: it is written to directly.

use crate::WriteError;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// How a target is written.
#[derive(Debug, PartialEq)]
enum Target {
    /// Through a temporary file renamed over this path (the target, its links resolved).
    Replace(PathBuf),
    /// Opened and written in place: not a regular file (a device, a FIFO, standard output).
    Direct,
}

/// Most links followed by hand (a dangling chain), as the kernel's own limit.
const MAX_LINKS: usize = 40;

/// Where writing `path` must go. Errors here are left to the write itself to report.
fn target_of(path: &Path) -> Target {
    match std::fs::metadata(path) {
        // A folder fails at the rename, with the operating system's words.
        Ok(meta) if meta.is_dir() => Target::Replace(path.to_path_buf()),
        Ok(meta) if !meta.is_file() => Target::Direct,
        // `/dev/stdout` redirected to a file, `/dev/fd/N`, `/proc/self/fd/N`: links into a
        // process's open files, whose target is the stream the caller set up, not a path to
        // replace.
        Ok(_) if path.starts_with("/dev") || path.starts_with("/proc") => Target::Direct,
        // A regular file, perhaps through links: replace the file itself.
        Ok(_) => {
            Target::Replace(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
        }
        // A link to a file not there yet: create that file, keep the link.
        Err(_) => Target::Replace(follow_dangling_links(path)),
    }
}

/// `path` with its last component's links followed by hand, which works when the final
/// target does not exist (where `canonicalize` fails).
fn follow_dangling_links(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let is_link = std::fs::symlink_metadata(&current)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        if !is_link {
            return current;
        }
        let Ok(points_to) = std::fs::read_link(&current) else {
            return current;
        };
        current = match current.parent() {
            Some(dir) if points_to.is_relative() => dir.join(points_to),
            _ => points_to,
        };
    }
    current
}

/// Writes `path` through `fill`, atomically. On any error the target is left untouched and
/// the temporary file is removed. A link is followed and the file it points to replaced; a
/// target that is not a regular file (a device, a FIFO) is written directly (see the module
/// docs).
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let wrap = |source: std::io::Error| WriteError {
        path: path.display().to_string(),
        source,
    };
    let resolved = match target_of(path) {
        Target::Direct => {
            // Appending: a stream redirected with `>>` keeps what it holds.
            let file = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(wrap)?;
            let mut w = BufWriter::new(file);
            fill(&mut w).map_err(wrap)?;
            return w.flush().map_err(wrap);
        }
        Target::Replace(resolved) => resolved,
    };
    let path = resolved.as_path();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".decide-")
        .suffix(".tmp")
        .tempfile_in(dir)
        // tempfile's error ends with ` at path "TEMPORARY"`, a file the user never asked for:
        // keep the OS's own words only, after the target's path.
        .map_err(|e| {
            let text = e.to_string();
            match text.split_once(" at path \"") {
                Some((cause, _)) => wrap(std::io::Error::new(e.kind(), cause.to_string())),
                None => wrap(e),
            }
        })?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        fill(&mut w).map_err(wrap)?;
        w.flush().map_err(wrap)?;
    }
    tmp.as_file().sync_all().map_err(wrap)?;
    // tempfile creates files readable by their owner only; an output file should have the
    // usual permissions of a file the user writes.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(existing) => existing.permissions().mode() & 0o7777,
            Err(_) => 0o644,
        };
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(wrap)?;
    }
    tmp.persist(path).map_err(|e| wrap(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_devices_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomically(&link, |w| w.write_all(b"new")).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        // A chain of links to a file not there yet: the file is created, the links kept.
        let first = dir.path().join("first");
        std::os::unix::fs::symlink("second", &first).unwrap();
        std::os::unix::fs::symlink("target.csv", dir.path().join("second")).unwrap();
        write_atomically(&first, |w| w.write_all(b"x")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("target.csv")).unwrap(),
            "x"
        );
        assert!(std::fs::symlink_metadata(&first).unwrap().is_symlink());
        assert_eq!(
            target_of(Path::new("/dev/null")),
            Target::Direct,
            "a device is written in place"
        );
        write_atomically(Path::new("/dev/null"), |w| w.write_all(b"gone")).unwrap();
        assert_eq!(target_of(&real), Target::Replace(real.clone()));
    }

    #[test]
    fn failed_fill_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        let r = write_atomically(&target, |w| {
            w.write_all(b"{\"half\":")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomically(&target, |w| w.write_all(b"{}")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            assert_eq!(
                mode, 0o644,
                "an output file is readable by others, like any file"
            );
        }
    }
}
