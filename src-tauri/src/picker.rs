//! The folder and file pickers: "Choose…" beside a typed path ("Find in
//! folder…", a rotation's `.env` file). The path comes back to the webview
//! as text in its field, where the person can still read and change it
//! before anything happens.
//!
//! On Linux: GTK's own file chooser over the app's window, showing hidden
//! files (a `.env` file is one, and GTK hides them by default). Elsewhere:
//! Tauri's dialog plugin (the system's open panel).

use serde::Deserialize;

/// What the picker chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PickKind {
    /// A folder to search ("Find in folder…").
    Folder,
    /// A file to deploy a key to (a `.env` file, hidden files shown).
    File,
}

impl PickKind {
    fn title(self) -> &'static str {
        match self {
            PickKind::Folder => "Choose a folder to search",
            PickKind::File => "Choose the file for the new key",
        }
    }
}

/// Shows the picker over the app's window and waits for the person:
/// `Some(path)` when they chose one, `None` when they cancelled. `start`:
/// the folder to open in (the field's current value, when it names one).
pub async fn pick<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    kind: PickKind,
    start: Option<String>,
) -> Result<Option<String>, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    show(app, kind, start, tx)?;
    // A dropped sender (the window closed under the picker) is a cancel.
    Ok(rx.await.unwrap_or(None))
}

type Reply = tokio::sync::oneshot::Sender<Option<String>>;

/// The folder to start in: `start` itself, or the folder holding it.
fn start_folder(start: Option<String>) -> Option<std::path::PathBuf> {
    let path = std::path::PathBuf::from(start?.trim());
    if path.is_dir() {
        Some(path)
    } else {
        path.parent()
            .filter(|p| p.is_dir())
            .map(|p| p.to_path_buf())
    }
}

#[cfg(target_os = "linux")]
fn show<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    kind: PickKind,
    start: Option<String>,
    tx: Reply,
) -> Result<(), String> {
    let handle = app.clone();
    let start = start_folder(start);
    // GTK objects live on the main thread only.
    app.run_on_main_thread(move || {
        use gtk::prelude::*;
        use tauri::Manager;
        let parent = handle
            .get_webview_window("main")
            .and_then(|w| w.gtk_window().ok());
        let action = match kind {
            PickKind::Folder => gtk::FileChooserAction::SelectFolder,
            PickKind::File => gtk::FileChooserAction::Open,
        };
        let chooser = gtk::FileChooserNative::new(
            Some(kind.title()),
            parent.as_ref(),
            action,
            Some("Choose"),
            Some("Cancel"),
        );
        chooser.set_modal(true);
        chooser.set_show_hidden(true);
        chooser.set_local_only(true);
        // Not "Recent" (GTK's default, where nothing can be chosen): the
        // field's folder, else the home folder.
        if let Some(dir) = start.or_else(|| handle.path().home_dir().ok()) {
            chooser.set_current_folder(dir);
        }
        // GTK does not keep a native dialog alive: this cell does until
        // the answer, then lets it go.
        let held = std::rc::Rc::new(std::cell::RefCell::new(Some(chooser.clone())));
        let tx = std::cell::Cell::new(Some(tx));
        chooser.connect_response(move |chooser, response| {
            let path = (response == gtk::ResponseType::Accept)
                .then(|| chooser.filename())
                .flatten()
                .map(|p| p.display().to_string());
            if let Some(tx) = tx.take() {
                let _ = tx.send(path);
            }
            held.borrow_mut().take();
        });
        chooser.show();
    })
    .map_err(|e| e.to_string())
}

#[cfg(not(target_os = "linux"))]
fn show<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    kind: PickKind,
    start: Option<String>,
    tx: Reply,
) -> Result<(), String> {
    use tauri_plugin_dialog::DialogExt;
    let mut dialog = app.dialog().file().set_title(kind.title());
    if let Some(dir) = start_folder(start) {
        dialog = dialog.set_directory(dir);
    }
    let reply = move |path: Option<tauri_plugin_dialog::FilePath>| {
        let _ = tx.send(
            path.and_then(|p| p.into_path().ok())
                .map(|p| p.display().to_string()),
        );
    };
    match kind {
        PickKind::Folder => dialog.pick_folder(reply),
        PickKind::File => dialog.pick_file(reply),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::start_folder;

    #[test]
    fn the_picker_starts_in_the_fields_folder_or_the_one_holding_it() {
        let dir = tempfile::tempdir().expect("dir");
        let folder = dir.path().display().to_string();
        let file = dir.path().join(".env").display().to_string();
        assert_eq!(start_folder(Some(folder.clone())), Some(dir.path().into()));
        assert_eq!(start_folder(Some(file)), Some(dir.path().into()));
        assert_eq!(
            start_folder(Some(format!(" {folder} "))),
            Some(dir.path().into())
        );
        assert_eq!(start_folder(Some("relative-nothing".into())), None);
        assert_eq!(start_folder(None), None);
    }
}
