//! Fuzzes the lossless YAML editor: any bytes as the file, any dotted key
//! path and value. It must never panic; a successful edit must read back
//! through serde_yaml (not the editor) as the value at the path, with every
//! other value unchanged (`check_edit`). Seeds: fuzz/seeds/yaml_set_value.
#![no_main]

use latchkey_core::deploy::YamlEditor;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((key, value, _, edited)) = common::edit::<YamlEditor>(data) else {
        return;
    };
    let body = edited.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&edited);
    let doc: serde_yaml::Value = serde_yaml::from_slice(body).expect("the edit is not YAML");
    let got = key.split('.').try_fold(&doc, |v, k| v.as_mapping()?.get(k));
    assert_eq!(
        got.and_then(|v| v.as_str()),
        Some(value),
        "the value does not read back"
    );
});
