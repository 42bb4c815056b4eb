//! Fuzzes the AWS credentials file editor: any bytes as the file, any
//! profile and value (a key pair is `ID:SECRET`). It must never panic; a
//! successful edit must read back as the pair, every other profile and key
//! unchanged (`check_edit`), and every line of the file that is not one of
//! the profile's two keys must still be there in order.
//! Seeds: fuzz/seeds/aws_credentials_set_value.
#![no_main]

use latchkey_core::deploy::{AwsCredentialsEditor, Editor};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((key, value, file, edited)) = common::edit::<AwsCredentialsEditor>(data) else {
        return;
    };
    let got = AwsCredentialsEditor::read_value(&edited, key).expect("the pair does not read back");
    assert!(got.expose_secret() == value, "the pair does not read back");
    let (before, after) = (
        String::from_utf8_lossy(file),
        String::from_utf8_lossy(&edited),
    );
    let mut rest: &str = &after;
    for line in before.lines() {
        let name = line
            .split(['=', ':'])
            .next()
            .unwrap_or("")
            .trim()
            .to_lowercase();
        if name == "aws_access_key_id" || name == "aws_secret_access_key" {
            continue;
        }
        let at = rest.find(line).expect("a line of the file is lost");
        rest = &rest[at + line.len()..];
    }
});
