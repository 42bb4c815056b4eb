//! Fuzzes the lossless `.env` editor: any bytes as the file, any variable
//! and value. It must never panic. dotenvy, not the editor, reads the
//! result: after a successful edit the variable is there and every
//! assignment of it reads as the value; when dotenvy could read the whole
//! file before, every other variable reads as before. The committed seeds
//! are in fuzz/seeds/dotenv_set_value (input layout below).
#![no_main]

use latchkey_core::deploy::dotenv::set_value;
use libfuzzer_sys::fuzz_target;

/// dotenvy's reading, line by line (a bad line is an `Err` item).
fn items(bytes: &[u8]) -> Vec<Result<(String, String), String>> {
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    dotenvy::from_read_iter(body)
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    // Layout: [name length][name][value length][value][file...]
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 24).min(rest.len());
    let (name, rest) = rest.split_at(n);
    let Some((&v, rest)) = rest.split_first() else {
        return;
    };
    let v = usize::from(v).min(rest.len());
    let (value, file) = rest.split_at(v);
    let (Ok(name), Ok(value)) = (std::str::from_utf8(name), std::str::from_utf8(value)) else {
        return;
    };
    let Ok(edited) = set_value(file, name, value) else {
        return;
    };
    let (before, after) = (items(file), items(&edited));
    let targets: Vec<&str> = after
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        !targets.is_empty(),
        "the variable is missing after a successful set"
    );
    assert!(
        targets.iter().all(|got| *got == value),
        "the variable does not read back as the value"
    );
    // dotenvy expands `$NAME` in other values: where the file uses it,
    // another value may follow the target's change by design.
    if before.iter().all(Result::is_ok) && !file.contains(&b'$') {
        let others = |v: &[Result<(String, String), String>]| -> Vec<(String, String)> {
            v.iter()
                .filter_map(|r| r.as_ref().ok())
                .filter(|(k, _)| k != name)
                .cloned()
                .collect()
        };
        assert!(
            after.iter().all(Result::is_ok),
            "the edit made the file unreadable"
        );
        assert_eq!(others(&before), others(&after), "another variable changed");
    }
});
