//! Key presses as a keyboard sends them, and the axe-core audit.

use std::path::Path;

use serde_json::{json, Value};

use super::App;

/// WebDriver key codes for `App::press`.
pub mod keys {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    pub const CONTROL: &str = "\u{E009}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}

impl App {
    /// Presses each key of `keys` in turn (down, then up) on whatever has
    /// focus, through the WebDriver actions a keyboard would send; keys are
    /// characters or WebDriver key codes (`keys::ARROW_DOWN`, …).
    pub async fn press(&self, keys: &str) {
        let mut actions = Vec::new();
        for key in keys.chars() {
            actions.push(json!({ "type": "keyDown", "value": key.to_string() }));
            actions.push(json!({ "type": "keyUp", "value": key.to_string() }));
        }
        self.perform_keys(actions).await;
    }

    /// Presses `key` while `modifier` is held (`keys::SHIFT` and Tab,
    /// `keys::CONTROL` and "k").
    pub async fn press_with(&self, modifier: &str, key: &str) {
        self.perform_keys(vec![
            json!({ "type": "keyDown", "value": modifier }),
            json!({ "type": "keyDown", "value": key }),
            json!({ "type": "keyUp", "value": key }),
            json!({ "type": "keyUp", "value": modifier }),
        ])
        .await;
    }

    async fn perform_keys(&self, actions: Vec<Value>) {
        let answer = self
            .raw(
                "POST",
                "/actions",
                Some(json!({ "actions": [
                    { "type": "key", "id": "keyboard", "actions": actions }
                ] })),
            )
            .await;
        assert!(answer["value"].is_null(), "key actions failed: {answer}");
    }

    /// Runs axe-core (ui/node_modules/axe-core, injected once per page) on
    /// the whole page as it is now; one line per serious or critical
    /// violation: rule, impact, help and the elements it found.
    pub async fn axe_serious(&self) -> Vec<String> {
        let loaded = self.execute("return typeof window.axe === 'object';").await;
        if loaded != json!(true) {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../ui/node_modules/axe-core/axe.min.js");
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run `npm ci` in ui/)", path.display()));
            // Run through WebDriver, not a <script> tag: the app's CSP
            // (script-src 'self') stays as it ships.
            self.execute(&format!("{source}\nreturn typeof window.axe;"))
                .await;
            let loaded = self.execute("return typeof window.axe === 'object';").await;
            assert_eq!(loaded, json!(true), "axe-core did not load");
        }
        let found = self
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                window.axe.run(document, { resultTypes: ["violations"] }).then(
                  (r) => done(r.violations
                    .filter((v) => v.impact === "serious" || v.impact === "critical")
                    .map((v) => `${v.id} (${v.impact}): ${v.help}: ` + v.nodes
                      .map((n) => `${n.target.join(" ")} [${n.failureSummary.replace(/\s+/g, " ")}]`)
                      .join("; "))),
                  (e) => done([`axe failed: ${e}`]));"#,
                &[],
            )
            .await;
        found
            .as_array()
            .unwrap_or_else(|| panic!("axe answered {found}"))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    }
}
