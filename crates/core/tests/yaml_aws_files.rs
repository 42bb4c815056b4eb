//! The YAML and AWS credentials file targets: property tests of their
//! editors (every other byte kept; `serde_yaml`, or the configparser-like
//! reader, sees the new value and every other value unchanged), a
//! `FileTarget` round trip per kind (write, holds, restore, refusal when the
//! file changed on disk), Open Animate's credentials file made when missing
//! (and deleted again by a rollback), and the credentials file read back by
//! botocore, the AWS SDK for Python (from the moto venv of scripts/test.sh).

use std::path::Path;
use std::process::Command;

use latchkey_core::catalog::{TargetSpec, TargetStatus};
use latchkey_core::deploy::{AwsCredentialsEditor, Backup, Editor, OpenWith, Written, YamlEditor};
use latchkey_core::Secret;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        "[ -~]{0,30}",
        "[ a\"\\\\#:'é€😀\t\u{85}\u{2028}-]{0,20}",
        Just("true".to_owned()),
        Just("0x1F".to_owned()),
        Just("~".to_owned()),
    ]
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}"
}

/// A key-pair half: what an AWS key id or secret may hold.
fn half() -> impl Strategy<Value = String> {
    "[A-Za-z0-9/+=_.#;\\[\\]-]{1,40}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn yaml_edits_touch_only_the_scalar(
        others in prop::collection::vec((name(), "[a-z ]{0,8}", any::<bool>()), 0..5),
        comments in prop::collection::vec("[ -~]{0,12}", 0..3),
        old in "[a-z0-9][a-z0-9 ]{0,9}",
        old_style in 0u8..3,
        new in value(),
        indent in 1usize..5,
        trailing_comment in any::<bool>(),
        final_newline in any::<bool>(),
        doc_start in any::<bool>(),
    ) {
        let pad = " ".repeat(indent);
        let mut head = String::new();
        if doc_start {
            head.push_str("---\n");
        }
        for c in &comments {
            head.push_str(&format!("#{c}\n\n"));
        }
        head.push_str("top: 1\nlist:\n- key: no\n- [a, b]\nsvc:\n");
        for (i, (k, v, quoted)) in others.iter().enumerate() {
            if *quoted {
                head.push_str(&format!("{pad}o{i}_{k}: \"{v}\"\n"));
            } else {
                head.push_str(&format!("{pad}o{i}_{k}: x{}\n", v.trim_end()));
            }
        }
        head.push_str(&format!("{pad}block: |\n{pad}{pad}key: not this\n{pad}key:  "));
        let old = old.trim_end();
        let old_token = match old_style {
            0 => format!("x{old}"),
            1 => format!("'{old}'"),
            _ => format!("\"{old}\""),
        };
        let mut tail = String::new();
        if trailing_comment {
            tail.push_str("  # the key");
        }
        tail.push_str(&format!("\n{pad}nested:\n{pad}{pad}key: deep\nother:\n  key: keep"));
        if final_newline {
            tail.push('\n');
        }
        let before = format!("{head}{old_token}{tail}");
        let after = YamlEditor::set_value(before.as_bytes(), "svc.key", &new)
            .unwrap_or_else(|e| panic!("{e:?}\n{before}"));
        let text = String::from_utf8(after.clone()).unwrap();
        prop_assert!(text.starts_with(&head), "{}", text);
        prop_assert!(text.ends_with(&tail), "{}", text);
        prop_assert_eq!(&text[head.len()..text.len() - tail.len()], latchkey_core::deploy::yaml::token_like(&old_token, &new));
        prop_assert!(YamlEditor::check_edit(before.as_bytes(), &after, "svc.key", Some(&new)));
        // serde_yaml: the new value, and every other value as it was.
        let mut want: serde_yaml::Value = serde_yaml::from_str(&before).unwrap();
        want["svc"]["key"] = serde_yaml::Value::String(new.clone());
        let got: serde_yaml::Value = serde_yaml::from_slice(&after).unwrap();
        prop_assert_eq!(want, got);
        let read = YamlEditor::read_value(&after, "svc.key").expect("reads");
        prop_assert_eq!(read.expose_secret(), new.as_str());
    }

    #[test]
    fn aws_credentials_edits_touch_only_the_two_values(
        others in prop::collection::vec((name(), half()), 0..4),
        comments in prop::collection::vec("[ -~]{0,12}", 0..3),
        old_id in half(),
        old_secret in half(),
        id in half(),
        secret in half(),
        present in 0u8..4,
        eq in prop::sample::select(vec!["=", " = ", "  =  ", ": ", " :"]),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        for c in &comments {
            text.push_str(&format!("#{c}{nl};{c}{nl}"));
        }
        text.push_str(&format!("[default]{nl}aws_access_key_id{eq}AKIADEFAULT{nl}aws_secret_access_key{eq}keep{nl}{nl}"));
        text.push_str(&format!("[target]{nl}region{eq}eu-west-1{nl}"));
        // present: 0 none, 1 id only, 2 secret only, 3 both; the profile
        // itself is missing when there are no other keys and none present.
        if present & 1 == 1 {
            text.push_str(&format!("aws_access_key_id{eq}{old_id}{nl}"));
        }
        for (i, (k, v)) in others.iter().enumerate() {
            text.push_str(&format!("o{i}_{k}{eq}{v}{nl}"));
        }
        if present & 2 == 2 {
            text.push_str(&format!("# the secret{nl}aws_secret_access_key{eq}{old_secret}{nl}"));
        }
        text.push_str(&format!("[zz]{nl}aws_access_key_id{eq}AKIAZZ{nl}aws_secret_access_key{eq}zz"));
        if final_newline {
            text.push_str(nl);
        }
        let pair = format!("{id}:{secret}");
        let after = AwsCredentialsEditor::set_value(text.as_bytes(), "target", &pair)
            .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let out = String::from_utf8(after.clone()).unwrap();
        prop_assert!(AwsCredentialsEditor::check_edit(text.as_bytes(), &after, "target", Some(&pair)));
        let read = AwsCredentialsEditor::read_value(&after, "target").expect("reads");
        prop_assert_eq!(read.expose_secret(), pair.as_str());
        for (profile, want) in [("default", "AKIADEFAULT:keep"), ("zz", "AKIAZZ:zz")] {
            let got = AwsCredentialsEditor::read_value(&after, profile).expect("other");
            prop_assert_eq!(got.expose_secret(), want);
        }
        // The lines that were there hold the new values; nothing else
        // changed.
        let mut want = text.clone();
        if present & 1 == 1 {
            want = want.replacen(
                &format!("aws_access_key_id{eq}{old_id}{nl}"),
                &format!("aws_access_key_id{eq}{id}{nl}"),
                1,
            );
        }
        if present & 2 == 2 {
            want = want.replacen(
                &format!("aws_secret_access_key{eq}{old_secret}{nl}"),
                &format!("aws_secret_access_key{eq}{secret}{nl}"),
                1,
            );
        }
        if present == 3 {
            prop_assert_eq!(out, want);
        } else {
            // Missing lines are only added: every line is still there, in order.
            let mut rest = out.as_str();
            for line in want.split_inclusive('\n') {
                let line = line.trim_end_matches(['\r', '\n']);
                let at = rest.find(line);
                prop_assert!(at.is_some(), "{:?} lost in {}", line, out);
                rest = &rest[at.unwrap() + line.len()..];
            }
            // And taking the profile's lines out again reads as before.
            let back = AwsCredentialsEditor::remove_value(&after, "target").expect("remove");
            prop_assert!(AwsCredentialsEditor::check_edit(&after, &back, "target", None));
        }
    }
}

fn backup(dir: &Path) -> Backup<'_> {
    Backup { dir, index: 0 }
}

fn digest_of(w: Written) -> String {
    match w {
        Written::Done { digest, .. } => digest.expect("digest"),
        Written::AwaitingConfirmation { .. } => panic!("not by hand"),
    }
}

/// Write, holds, restore and a refusal after a change on disk, through the
/// spec's own target, for a file holding `old` at `key`.
async fn round_trip(spec: &str, file: &Path, new: &str, old: &str, changed: &str) {
    let spec: TargetSpec = spec.parse().expect("spec");
    let before = std::fs::read(file).expect("read");
    let data = tempfile::tempdir().expect("tempdir");
    let t = spec.open(OpenWith::nothing());
    let planned = t.prepare().await.expect("prepare");
    assert_eq!(planned.status, TargetStatus::Pending);
    let new = Secret::new(new);
    let deployed = digest_of(
        t.write(&new, &backup(data.path()), planned.digest.as_deref())
            .await
            .expect("write"),
    );
    assert!(t.holds(&new.fingerprint()).await.expect("holds"));
    assert!(!t
        .holds(&Secret::new(old).fingerprint())
        .await
        .expect("holds"));
    let no_old = || -> latchkey_core::Result<Secret> { panic!("the backup has the old key") };
    t.restore(&backup(data.path()), Some(&deployed), Some(&new), &no_old)
        .await
        .expect("restore");
    assert_eq!(std::fs::read(file).expect("read"), before, "{spec}");
    assert!(t
        .holds(&Secret::new(old).fingerprint())
        .await
        .expect("holds"));

    // Planned, then changed by someone else: nothing is written.
    let planned = t.prepare().await.expect("prepare");
    std::fs::write(file, changed).expect("change");
    let e = t
        .write(&new, &backup(data.path()), planned.digest.as_deref())
        .await
        .expect_err("changed on disk");
    assert_eq!(e.code().as_str(), "dotenv_changed_on_disk");
    assert_eq!(std::fs::read_to_string(file).expect("read"), changed);
    // A rollback over a file changed since the deploy is refused too.
    let planned = t.prepare().await.expect("prepare");
    let deployed = digest_of(
        t.write(&new, &backup(data.path()), planned.digest.as_deref())
            .await
            .expect("write"),
    );
    let mut edited = std::fs::read(file).expect("read");
    edited.extend_from_slice(b"# mine\n");
    std::fs::write(file, &edited).expect("edit");
    let e = t
        .restore(&backup(data.path()), Some(&deployed), Some(&new), &no_old)
        .await
        .expect_err("changed since the deploy");
    assert_eq!(e.code().as_str(), "dotenv_changed_on_disk");
    assert_eq!(std::fs::read(file).expect("read"), edited);
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o7777
}

#[tokio::test]
async fn a_yaml_target_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config.yml");
    std::fs::write(
        &file,
        "# settings\nservices:\n  openai:\n    key: \"sk-old\"   # rotated by Latchkey\n    model: gpt\nother: 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        // As root (CI): a file owned by another user keeps its owner.
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&file, Some(1), Some(1)).expect("chown");
        }
    }
    let spec = format!("yaml:{}:services.openai.key", file.display());
    round_trip(
        &spec,
        &file,
        "sk-new 1",
        "sk-old",
        "services:\n  openai:\n    key: theirs\n",
    )
    .await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(mode(&file), 0o640, "the file's mode is kept");
        if rustix::process::geteuid().is_root() {
            let meta = std::fs::metadata(&file).expect("meta");
            assert_eq!((meta.uid(), meta.gid()), (1, 1), "the owner is kept");
        }
    }
}

#[tokio::test]
async fn an_aws_credentials_target_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        "[default]\naws_access_key_id=AKIAOLD\naws_secret_access_key=old\n; work\n[work]\nregion = x\n",
    )
    .unwrap();
    let spec = format!("aws-credentials:{}:default", file.display());
    round_trip(
        &spec,
        &file,
        "AKIANEW:new/secret",
        "AKIAOLD:old",
        "[default]\naws_access_key_id=A\naws_secret_access_key=b\n",
    )
    .await;

    // A profile that was not there is appended, and a rollback takes it out.
    let before = std::fs::read_to_string(&file).unwrap();
    let spec: TargetSpec = format!("aws-credentials:{}:fresh", file.display())
        .parse()
        .unwrap();
    let data = tempfile::tempdir().expect("tempdir");
    let t = spec.open(OpenWith::nothing());
    let planned = t.prepare().await.expect("prepare");
    let new = Secret::new("AKIAFRESH:fresh");
    let deployed = digest_of(
        t.write(&new, &backup(data.path()), planned.digest.as_deref())
            .await
            .expect("write"),
    );
    assert!(std::fs::read_to_string(&file).unwrap().starts_with(&before));
    assert!(t.holds(&new.fingerprint()).await.expect("holds"));
    let no_old = || -> latchkey_core::Result<Secret> { panic!("the backup says: not set") };
    t.restore(&backup(data.path()), Some(&deployed), Some(&new), &no_old)
        .await
        .expect("restore");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    // A value that is not a key pair is refused, and never named.
    let t = format!("aws-credentials:{}:default", file.display())
        .parse::<TargetSpec>()
        .unwrap()
        .open(OpenWith::nothing());
    let planned = t.prepare().await.expect("prepare");
    let e = t
        .write(
            &Secret::new("sk-NOT-A-PAIR"),
            &backup(data.path()),
            planned.digest.as_deref(),
        )
        .await
        .expect_err("not a pair");
    assert!(!e.to_string().contains("NOT-A-PAIR"), "{e}");
    assert!(!format!("{e:?}").contains("NOT-A-PAIR"));
}

/// A deploy and its rollback over `before`: the file comes back byte for
/// byte, whichever of the profile's two lines (or the profile) was there.
async fn rollback_gives_back(before: &str, profile: &str, crashed: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("credentials");
    std::fs::write(&file, before).unwrap();
    let spec: TargetSpec = format!("aws-credentials:{}:{profile}", file.display())
        .parse()
        .unwrap();
    let data = tempfile::tempdir().expect("tempdir");
    let t = spec.open(OpenWith::nothing());
    let planned = t.prepare().await.expect("prepare");
    let new = Secret::new("AKIANEWNEWNEWNEWNEW2:new/secret");
    let deployed = digest_of(
        t.write(&new, &backup(data.path()), planned.digest.as_deref())
            .await
            .expect("write"),
    );
    assert!(t.holds(&new.fingerprint()).await.expect("holds"));
    let no_old = || -> latchkey_core::Result<Secret> { panic!("the backup has what was there") };
    // `crashed`: killed before the deploy's digest was journaled.
    let deployed = (!crashed).then_some(deployed.as_str());
    t.restore(&backup(data.path()), deployed, Some(&new), &no_old)
        .await
        .unwrap_or_else(|e| panic!("restore {before:?}: {e}"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
}

#[tokio::test]
async fn a_rollback_puts_back_the_one_line_of_the_pair_that_was_there() {
    for before in [
        // Only the key id: it comes back with its old value, the secret goes.
        "[work]\naws_access_key_id = AKIAOLD\nregion = x\n\n[z]\nk = v\n",
        "[work]\naws_access_key_id=AKIAOLD\n",
        "[work]\naws_access_key_id=AKIAOLD",
        // Only the secret.
        "# mine\n[work]\naws_secret_access_key : old\n[z]\nk = v\n",
        "[work]\r\naws_secret_access_key=old\r\n",
    ] {
        rollback_gives_back(before, "work", false).await;
        rollback_gives_back(before, "work", true).await;
    }
}

#[tokio::test]
async fn a_rollback_takes_out_what_was_added_and_puts_back_both_lines() {
    for before in [
        // Neither line, or no profile at all: both lines (or the section) go.
        "[work]\nregion = x\n",
        "[work]\n",
        "[a]\nx = 1\n",
        "[a]\nx = 1",
        "",
        // Both lines: both old values come back.
        "[work]\naws_access_key_id = AKIAOLD\n; note\naws_secret_access_key = old\n",
        "[work]\naws_secret_access_key=old\naws_access_key_id=AKIAOLD",
    ] {
        rollback_gives_back(before, "work", false).await;
        rollback_gives_back(before, "work", true).await;
    }
}

#[tokio::test]
async fn open_animates_credentials_file_is_made_when_missing_and_a_rollback_deletes_it() {
    let home = tempfile::tempdir().expect("tempdir");
    let file = home.path().join(".oanim/credentials.yaml");
    let spec: TargetSpec = format!("yaml:{}:api_key", file.display()).parse().unwrap();
    let data = tempfile::tempdir().expect("tempdir");
    let t = spec.open(OpenWith::nothing());
    let planned = t.prepare().await.expect("prepare");
    assert_eq!(planned.digest.as_deref(), Some("absent"));
    let new = Secret::new("oa_live_NEW");
    assert!(!t.holds(&new.fingerprint()).await.expect("holds"));
    let deployed = digest_of(
        t.write(&new, &backup(data.path()), planned.digest.as_deref())
            .await
            .expect("write"),
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "api_key: oa_live_NEW\n"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }
    assert!(t.holds(&new.fingerprint()).await.expect("holds"));
    // Written again (a resume after a crash): left as it is.
    t.write(&new, &backup(data.path()), planned.digest.as_deref())
        .await
        .expect("again");
    let no_old = || -> latchkey_core::Result<Secret> { panic!("there was no file") };
    let said = t
        .restore(&backup(data.path()), Some(&deployed), Some(&new), &no_old)
        .await
        .expect("restore");
    assert!(said.contains("gone"), "{said}");
    assert!(!file.exists());

    // Made by someone else between the plan and the write: refused.
    let planned = t.prepare().await.expect("prepare");
    std::fs::write(&file, "api_key: theirs\n").unwrap();
    let e = t
        .write(&new, &backup(data.path()), planned.digest.as_deref())
        .await
        .expect_err("made meanwhile");
    assert_eq!(e.code().as_str(), "dotenv_changed_on_disk");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "api_key: theirs\n");

    // An existing file keeps its mode and is edited in place.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    round_trip(
        &format!("yaml:{}:api_key", file.display()),
        &file,
        "oa_live_NEWER",
        "theirs",
        "api_key: changed\n",
    )
    .await;
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);

    // Any other missing YAML file is refused, not made.
    let other: TargetSpec = format!("yaml:{}:api_key", home.path().join("x.yaml").display())
        .parse()
        .unwrap();
    let e = other
        .open(OpenWith::nothing())
        .prepare()
        .await
        .expect_err("missing");
    assert_eq!(e.code().as_str(), "deploy_failed");
}

/// The moto venv's python (scripts/test.sh's `moto_ensure`), which has
/// botocore; else `python3` on the PATH.
fn python() -> String {
    match std::env::var("LATCHKEY_MOTO_SERVER") {
        Ok(moto) => Path::new(&moto)
            .with_file_name("python")
            .display()
            .to_string(),
        Err(_) => "python3".into(),
    }
}

#[tokio::test]
async fn botocore_reads_the_profile_the_target_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("credentials");
    std::fs::write(
        &file,
        "# mine\n[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\nregion=eu-west-1\n\n[work]\n; old key\naws_access_key_id=AKIAOLDOLDOLDOLDOLD1\naws_secret_access_key : old\n",
    )
    .unwrap();
    let data = tempfile::tempdir().expect("tempdir");
    for (profile, pair) in [
        (
            "work",
            "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("fresh", "AKIAFRESHFRESHFRESH2:fresh+secret/=x"),
    ] {
        let spec: TargetSpec = format!("aws-credentials:{}:{profile}", file.display())
            .parse()
            .unwrap();
        let t = spec.open(OpenWith::nothing());
        let planned = t.prepare().await.expect("prepare");
        t.write(
            &Secret::new(pair),
            &backup(data.path()),
            planned.digest.as_deref(),
        )
        .await
        .expect("write");
    }
    let script = r#"
import sys, botocore.session
for profile in sys.argv[1:]:
    c = botocore.session.Session(profile=profile).get_credentials()
    print(profile + " " + c.access_key + ":" + c.secret_key)
"#;
    let py = python();
    let out = Command::new(&py)
        .args(["-c", script, "default", "work", "fresh"])
        .env("AWS_SHARED_CREDENTIALS_FILE", &file)
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {py} ({e}): run scripts/test.sh (it installs botocore with moto)")
        });
    assert!(
        out.status.success(),
        "{py} with botocore failed (run scripts/test.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "default AKIAOTHER:other\nwork AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nfresh AKIAFRESHFRESHFRESH2:fresh+secret/=x\n"
    );
}
