//! Fuzzes the lossless JSON editor: any bytes as the file, any dotted key
//! path and value. It must never panic; a successful edit must read back
//! through serde_json (not the editor) as the value at the path, with every
//! other value unchanged (`check_edit`). Seeds: fuzz/seeds/json_set_value.
#![no_main]

use latchkey_core::deploy::{Editor, JsonEditor};
use libfuzzer_sys::fuzz_target;

/// Layout: [key length][key][value length][value][file...]
fn split(data: &[u8]) -> Option<(&str, &str, &[u8])> {
    let (&n, rest) = data.split_first()?;
    let n = usize::from(n % 24).min(rest.len());
    let (key, rest) = rest.split_at(n);
    let (&v, rest) = rest.split_first()?;
    let v = usize::from(v).min(rest.len());
    let (value, file) = rest.split_at(v);
    Some((
        std::str::from_utf8(key).ok()?,
        std::str::from_utf8(value).ok()?,
        file,
    ))
}

fuzz_target!(|data: &[u8]| {
    let Some((key, value, file)) = split(data) else {
        return;
    };
    let Ok(edited) = JsonEditor::set_value(file, key, value) else {
        return;
    };
    assert!(
        JsonEditor::check_edit(file, &edited, key, Some(value)),
        "check_edit refuses the editor's own edit"
    );
    let body = edited.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&edited);
    let doc: serde_json::Value = serde_json::from_slice(body).expect("the edit is not JSON");
    let got = key.split('.').try_fold(&doc, |v, k| v.as_object()?.get(k));
    assert_eq!(
        got.and_then(|v| v.as_str()),
        Some(value),
        "the value does not read back"
    );
});
