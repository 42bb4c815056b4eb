//! Property tests of the JSON and TOML editors: documents are generated as
//! structured entries (nested objects/tables, other strings and numbers,
//! comments and blank lines in TOML), the target is a string at a dotted
//! path, and a generated value is set. Every byte outside the old value's
//! token is kept: the edit is exactly `prefix + new token + suffix`, and a
//! standard parser (serde_json, toml) reads the new value and every other
//! value unchanged.

use latchkey_core::deploy::{Editor, JsonEditor, TomlEditor};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        "[ -~]{0,30}",
        "[ a\"\\\\#:'é€😀\t]{0,20}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn json_edits_touch_only_the_token(
        others in prop::collection::vec((name(), "[a-z ]{0,8}"), 0..5),
        nums in prop::collection::vec((name(), 0u32..1000), 0..3),
        old in "[a-z0-9 ]{0,10}",
        new in value(),
        crlf in any::<bool>(),
        indent in 0usize..5,
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let pad = " ".repeat(indent);
        let mut head = format!("{{{nl}");
        for (i, (k, v)) in others.iter().enumerate() {
            head.push_str(&format!("{pad}\"o{i}_{k}\": \"{v}\",{nl}"));
        }
        for (i, (k, v)) in nums.iter().enumerate() {
            head.push_str(&format!("{pad}\"n{i}_{k}\": {v},{nl}"));
        }
        head.push_str(&format!("{pad}\"svc\": {{{nl}{pad}{pad}\"key\" : "));
        let tail = format!("{nl}{pad}}}{nl}}}{nl}");
        let before = format!("{head}\"{old}\"{tail}");
        let after = JsonEditor::set_value(before.as_bytes(), "svc.key", &new).expect("edit");
        let token = serde_json::to_string(&new).unwrap();
        prop_assert_eq!(String::from_utf8(after.clone()).unwrap(), format!("{head}{token}{tail}"));
        prop_assert!(JsonEditor::check_edit(before.as_bytes(), &after, "svc.key", Some(&new)));
        let read = JsonEditor::read_value(&after, "svc.key").expect("reads");
        prop_assert_eq!(read.expose_secret(), new.as_str());
    }

    #[test]
    fn toml_edits_touch_only_the_token(
        others in prop::collection::vec((name(), "[a-z ]{0,8}"), 0..5),
        comments in prop::collection::vec("[ -~]{0,12}", 0..3),
        old in "[a-z0-9 ]{0,10}",
        new in value(),
        spaced in any::<bool>(),
        trailing_comment in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let eq = if spaced { " = " } else { "=" };
        let mut head = String::new();
        for c in &comments {
            head.push_str(&format!("#{c}\n\n"));
        }
        head.push_str("top = 1\n[svc]\n");
        for (i, (k, v)) in others.iter().enumerate() {
            head.push_str(&format!("o{i}_{k}{eq}\"{v}\"\n"));
        }
        head.push_str(&format!("key{eq}"));
        let mut tail = String::new();
        if trailing_comment {
            tail.push_str("  # the key");
        }
        tail.push_str("\n[other]\nkey = \"keep\"");
        if final_newline {
            tail.push('\n');
        }
        let before = format!("{head}\"{old}\"{tail}");
        let after = match TomlEditor::set_value(before.as_bytes(), "svc.key", &new) {
            Ok(a) => a,
            // A value with a control character gets a token toml_edit
            // spells its own way; refusing it is allowed, nothing else.
            Err(e) => {
                prop_assert!(new.chars().any(char::is_control), "{e:?}");
                return Ok(());
            }
        };
        let text = String::from_utf8(after.clone()).unwrap();
        prop_assert!(text.starts_with(&head), "{}", text);
        prop_assert!(text.ends_with(&tail), "{}", text);
        prop_assert!(TomlEditor::check_edit(before.as_bytes(), &after, "svc.key", Some(&new)));
        let read = TomlEditor::read_value(&after, "svc.key").expect("reads");
        prop_assert_eq!(read.expose_secret(), new.as_str());
        let other = TomlEditor::read_value(&after, "other.key").expect("other");
        prop_assert_eq!(other.expose_secret(), "keep");
    }
}
