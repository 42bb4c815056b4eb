//! The Linux bundles' AppStream metadata: valid for `appstreamcli` (the
//! Debian `appstream` package, a test package in scripts/lib.sh), naming the
//! app's identifier and the desktop entry Tauri's bundler writes
//! (`<productName>.desktop`), and installed by both the .deb and the .rpm.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tauri_conf() -> serde_json::Value {
    let text = std::fs::read_to_string(workspace().join("src-tauri/tauri.conf.json"))
        .expect("tauri.conf.json");
    serde_json::from_str(&text).expect("tauri.conf.json is JSON")
}

fn metainfo() -> PathBuf {
    let id = tauri_conf()["identifier"]
        .as_str()
        .expect("identifier")
        .to_owned();
    workspace().join(format!("packaging/{id}.metainfo.xml"))
}

#[test]
fn the_metainfo_passes_appstreamcli() {
    let out = Command::new("appstreamcli")
        .args(["validate", "--no-net", "--pedantic"])
        .arg(metainfo())
        .output()
        .expect("appstreamcli (Debian package `appstream`) is needed for this test");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_metainfo_names_the_app_and_its_desktop_entry() {
    let conf = tauri_conf();
    let xml = std::fs::read_to_string(metainfo()).expect("metainfo");
    let id = conf["identifier"].as_str().expect("identifier");
    assert!(xml.contains(&format!("<id>{id}</id>")), "{xml}");
    let product = conf["productName"].as_str().expect("productName");
    assert!(
        xml.contains(&format!(
            r#"<launchable type="desktop-id">{product}.desktop</launchable>"#
        )),
        "{xml}"
    );
    let binary = conf["mainBinaryName"].as_str().expect("mainBinaryName");
    assert!(xml.contains(&format!("<binary>{binary}</binary>")), "{xml}");
}

#[test]
fn deb_and_rpm_both_install_it() {
    let conf = tauri_conf();
    let targets = conf["bundle"]["targets"].as_array().expect("targets");
    let id = conf["identifier"].as_str().expect("identifier");
    let dest = format!("/usr/share/metainfo/{id}.metainfo.xml");
    for kind in ["deb", "rpm"] {
        assert!(targets.iter().any(|t| t == kind), "{kind} not bundled");
        let files = &conf["bundle"]["linux"][kind]["files"];
        let source = files[&dest]
            .as_str()
            .unwrap_or_else(|| panic!("{kind} does not install {dest}: {files}"));
        let source = workspace().join("src-tauri").join(source);
        assert_eq!(
            std::fs::canonicalize(&source).expect("source exists"),
            std::fs::canonicalize(metainfo()).expect("metainfo")
        );
        assert_eq!(
            files["/usr/bin/latchkey"], "bundle-files/latchkey",
            "{kind}"
        );
    }
}
