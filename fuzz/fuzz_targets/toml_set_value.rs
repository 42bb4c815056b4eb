//! Fuzzes the lossless TOML editor: any bytes as the file, any dotted key
//! path and value. It must never panic; a successful edit must read back
//! through the `toml` crate (not the editor) as the value at the path, with
//! every other value unchanged (`check_edit`). Seeds: fuzz/seeds/toml_set_value.
#![no_main]

use latchkey_core::deploy::TomlEditor;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((key, value, _, edited)) = common::edit::<TomlEditor>(data) else {
        return;
    };
    let text = std::str::from_utf8(&edited).expect("the edit is not UTF-8");
    let doc =
        toml::Value::Table(toml::from_str::<toml::Table>(text).expect("the edit is not TOML"));
    let got = key.split('.').try_fold(&doc, |v, k| v.as_table()?.get(k));
    assert_eq!(
        got.and_then(|v| v.as_str()),
        Some(value),
        "the value does not read back"
    );
});
