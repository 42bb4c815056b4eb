//! Property tests of the lossless `.env` editor: untouched lines stay
//! byte-identical, every other value parses (with dotenvy) exactly as before,
//! the target parses to the new value, and no input panics.

use latchkey_core::deploy::dotenv::set_value;
use proptest::prelude::*;

const TARGET: &str = "API_KEY";

fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{0,24}"
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![Just(TARGET.to_owned()), "[A-Z][A-Z0-9_]{0,8}"]
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "# [ -~]{0,30}".prop_map(|c| c.trim_end().to_owned()),
        (name(), value(), 0..4usize, "( #[a-z ]{0,10})?").prop_map(|(n, v, style, comment)| {
            let v = if v.is_empty() && style == 0 {
                "x".to_owned()
            } else {
                v
            };
            match style {
                0 => format!("{n}={v}{}", comment.trim_end()),
                1 => format!("export {n}=\"{v}\"{}", comment.trim_end()),
                2 => format!("{n}='{v}'"),
                _ => format!("  {n} = \"{v}\""),
            }
        }),
    ]
}

fn file() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(line(), 0..12),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, bom, trailing)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text.push_str(&lines.join(nl));
            if trailing && !lines.is_empty() {
                text.push_str(nl);
            }
            text
        })
}

fn parsed(text: &str) -> Vec<(String, String)> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    dotenvy::from_read_iter(body.as_bytes())
        .filter_map(Result::ok)
        .collect()
}

fn is_target_line(line: &str) -> bool {
    let t = line.trim_start().trim_start_matches("export ").trim_start();
    t.strip_prefix(TARGET)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

fn cases() -> u32 {
    std::env::var("LK_DOTENV_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn only_the_target_value_changes(text in file(), new in "[A-Za-z0-9_-]{1,40}") {
        let edited = String::from_utf8(set_value(text.as_bytes(), TARGET, &new).expect("edit")).expect("utf-8");
        prop_assert_eq!(text.starts_with('\u{feff}'), edited.starts_with('\u{feff}'));
        let keep = |t: &str| -> Vec<String> {
            let body = t.strip_prefix('\u{feff}').unwrap_or(t);
            body.split_inclusive('\n').filter(|l| !is_target_line(l)).map(str::to_owned).collect()
        };
        let (before, mut after) = (keep(&text), keep(&edited));
        if !text.trim_start_matches('\u{feff}').split_inclusive('\n').any(is_target_line) {
            // Appended: the old last line may have gained a line break.
            if let (Some(b), Some(a)) = (before.last(), after.last_mut()) {
                if !b.ends_with('\n') {
                    *a = a.trim_end_matches(['\r', '\n']).to_owned();
                }
            }
        }
        prop_assert_eq!(before, after, "untouched lines changed");
        let others = |t: &str| -> Vec<(String, String)> { parsed(t).into_iter().filter(|(k, _)| k != TARGET).collect() };
        prop_assert_eq!(others(&text), others(&edited));
        let targets: Vec<String> = parsed(&edited).into_iter().filter(|(k, _)| k == TARGET).map(|(_, v)| v).collect();
        prop_assert!(!targets.is_empty());
        prop_assert!(targets.iter().all(|v| *v == new), "target parsed as {:?}", targets);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), new in "\\PC{0,30}") {
        let _ = set_value(&bytes, TARGET, &new);
    }
}
