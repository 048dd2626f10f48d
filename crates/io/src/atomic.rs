//! Atomic output: a temporary file in the target's folder, renamed into place when complete,
//! so a reader (or a crash) never sees half a file.

use crate::WriteError;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `path` through `fill`, atomically. On any error the target is left untouched and
/// the temporary file is removed.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let wrap = |source: std::io::Error| WriteError {
        path: path.display().to_string(),
        source,
    };
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
