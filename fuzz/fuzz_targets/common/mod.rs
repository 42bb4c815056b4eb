//! What every config-file editor's fuzz target does first: cut the input
//! into a key, a value and a file, edit, and check the editor accepts its
//! own edit. Each target then reads the result with the format's standard
//! reader, not the editor.

use latchkey_core::deploy::Editor;

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

/// An edit `E` made of `data`: (key, value, file before, file after), or
/// `None` when the input is not one or the editor refused it.
pub fn edit<E: Editor>(data: &[u8]) -> Option<(&str, &str, &[u8], Vec<u8>)> {
    let (key, value, file) = split(data)?;
    let edited = E::set_value(file, key, value).ok()?;
    assert!(
        E::check_edit(file, &edited, key, Some(value)),
        "check_edit refuses the editor's own edit"
    );
    Some((key, value, file, edited))
}
