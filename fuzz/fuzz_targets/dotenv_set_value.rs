//! Fuzzes the lossless `.env` editor: any bytes as the file, any variable
//! and value. It must never panic; when it accepts an edit of a file dotenvy
//! can read, the result must read back with the variable set to the value
//! and every other variable unchanged.
#![no_main]

use latchkey_core::deploy::dotenv::set_value;
use libfuzzer_sys::fuzz_target;

fn read(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    dotenvy::from_read_iter(body).collect::<Result<Vec<_>, _>>().ok()
}

fuzz_target!(|data: &[u8]| {
    // Layout: [name length][name][value length][value][file...]
    let Some((&n, rest)) = data.split_first() else { return };
    let n = usize::from(n % 24).min(rest.len());
    let (name, rest) = rest.split_at(n);
    let Some((&v, rest)) = rest.split_first() else { return };
    let v = usize::from(v).min(rest.len());
    let (value, file) = rest.split_at(v);
    let (Ok(name), Ok(value)) = (std::str::from_utf8(name), std::str::from_utf8(value)) else {
        return;
    };
    let Ok(edited) = set_value(file, name, value) else { return };
    let (Some(before), Some(after)) = (read(file), read(&edited)) else { return };
    let others = |v: &[(String, String)]| -> Vec<(String, String)> {
        v.iter().filter(|(k, _)| k != name).cloned().collect()
    };
    // dotenvy expands `$NAME` in other values: where the file uses it,
    // another value may follow the target's change by design.
    if !file.contains(&b'$') {
        assert_eq!(others(&before), others(&after), "another variable changed");
    }
    assert!(
        after.iter().filter(|(k, _)| k == name).all(|(_, got)| got == value),
        "the variable does not read back as the value"
    );
});
