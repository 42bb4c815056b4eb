//! A `.env` file inside a git work tree that git does not ignore is one
//! `git add .` away from publishing the key. The wizard warns and offers to
//! add it to the work tree's `.gitignore`, with the temp files Latchkey
//! writes beside it for a moment.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// The work tree holding `path`, if any.
pub fn work_tree(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Whether git ignores `path` (inside `root`). Without a git binary, the
/// root `.gitignore` is read for the file's name or its rooted path.
fn ignored(root: &Path, path: &Path) -> bool {
    let asked = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["check-ignore", "-q", "--no-index", "--"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match asked.map(|s| s.code()) {
        Ok(Some(0)) => true,
        Ok(Some(1)) => false,
        _ => {
            let rel = path.strip_prefix(root).unwrap_or(path);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rooted = format!("/{}", rel.display());
            std::fs::read_to_string(root.join(".gitignore"))
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .any(|l| l == name || l == rooted || l == rel.display().to_string())
        }
    }
}

/// What Latchkey writes beside a target for a moment: the temp file of an
/// atomic replace (a kill can leave one behind until the next run).
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.0-0{}", super::dotenv_file::TEMP_SUFFIX))
}

/// A warning when `path` is in a git work tree and git does not ignore it,
/// or does not ignore the temp files Latchkey writes beside it.
pub fn warning(path: &Path) -> Option<String> {
    let root = work_tree(path)?;
    if !ignored(&root, path) {
        return Some(format!(
            "{} is in the git work tree {} and git does not ignore it: the key could be committed. Add it to .gitignore.",
            path.display(),
            root.display()
        ));
    }
    (!ignored(&root, &temp_sibling(path))).then(|| {
        format!(
            "Latchkey's temporary copies of {} (*.latchkey-tmp) are not ignored by git in {}: a crash could leave one to be committed. Add them to .gitignore.",
            path.display(),
            root.display()
        )
    })
}

/// Appends `path` (rooted, relative to its work tree) and the pattern of
/// Latchkey's temp files to the tree's `.gitignore`, each unless ignored.
pub fn add(path: &Path) -> Result<()> {
    let path = std::fs::canonicalize(path)
        .map_err(|_| Error::invalid("path", format!("{} cannot be found", path.display())))?;
    let root = work_tree(&path).ok_or_else(|| {
        Error::invalid(
            "path",
            format!("{} is not in a git work tree", path.display()),
        )
    })?;
    let mut lines = String::new();
    if !ignored(&root, &path) {
        let rel = path.strip_prefix(&root).unwrap_or(&path);
        lines.push_str(&format!("/{}\n", rel.display()));
    }
    if !ignored(&root, &temp_sibling(&path)) {
        lines.push_str(&format!("*{}\n", super::dotenv_file::TEMP_SUFFIX));
    }
    if lines.is_empty() {
        return Ok(());
    }
    let gitignore = root.join(".gitignore");
    let existing = std::fs::read(&gitignore).unwrap_or_default();
    if !existing.is_empty() && !existing.ends_with(b"\n") {
        lines.insert(0, '\n');
    }
    let failed = |_| Error::DeployFailed {
        path: gitignore.display().to_string(),
        reason: "it could not be written".into(),
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&gitignore)
        .map_err(failed)?;
    file.write_all(lines.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}
