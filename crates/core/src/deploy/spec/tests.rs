use super::*;

fn dotenv(path: &str, var: &str) -> TargetSpec {
    TargetSpec::Dotenv {
        path: path.into(),
        var: var.into(),
        follow_symlink: false,
    }
}

fn parse(spec: &str) -> TargetSpec {
    spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
}

#[test]
fn dotenv_specs_split_on_the_last_colon_only_before_a_variable_name() {
    let cases = [
        ("dotenv:.env", dotenv(".env", "")),
        ("dotenv:.env:API_KEY", dotenv(".env", "API_KEY")),
        ("dotenv:./app/.env:_k9", dotenv("./app/.env", "_k9")),
        (r"dotenv:C:\app\.env", dotenv(r"C:\app\.env", "")),
        (
            r"dotenv:C:\app\.env:API_KEY",
            dotenv(r"C:\app\.env", "API_KEY"),
        ),
        ("dotenv:a:b/.env", dotenv("a:b/.env", "")),
        ("dotenv:x:9LIVES", dotenv("x:9LIVES", "")),
        ("dotenv:x:A-B", dotenv("x:A-B", "")),
        ("dotenv:dir:VAR:", dotenv("dir:VAR", "")),
        ("dotenv:x::K", dotenv("x:", "K")),
    ];
    for (spec, want) in cases {
        assert_eq!(parse(spec), want, "{spec}");
    }
}

#[test]
fn specs_round_trip_through_display() {
    for spec in [
        "dotenv:.env",
        "dotenv:.env:API_KEY",
        r"dotenv:C:\app\.env",
        r"dotenv:C:\app\.env:K",
        "dotenv:dir:VAR:",
        "dotenv:x::K",
        "dotenv:x::",
        "dotenv:/srv/my app/.env:A_B",
        "aws-secret:prod:team/api-key",
        "aws-secret:prod:arn:aws:secretsmanager:eu-west-1:123456789012:secret:team-AbCdEf",
        "ssm:prod:/team/api-key",
        "json:/a/b.json:a.b-c_9",
        r"json:C:\a.json:k",
        "toml:/a/Cargo.toml:x.y",
        "yaml:~/.oanim/credentials.yaml:api_key",
        "yaml:/a/b.yml:a.b-c_9",
        "aws-credentials:~/.aws/credentials:default",
        "aws-credentials:C:\\aws\\credentials:work.dev-1",
        "gitlab:gl:42:API_KEY",
        "gitlab:gl:group/app:API_KEY:production",
        "gitlab:gl:42:API_KEY:review/*",
        "vercel:vc:my-app:API_KEY",
        "netlify:nf:team-slug:site-id-1:API_KEY",
    ] {
        let once = parse(spec);
        let printed = once.to_string();
        assert_eq!(printed, spec);
        assert_eq!(parse(&printed), once, "{spec}");
    }
    // Built, not parsed: paths whose tail looks like a variable.
    for spec in [dotenv("a:B", ""), dotenv("a:", ""), dotenv("a:B", "C")] {
        assert_eq!(parse(&spec.to_string()), spec, "{spec}");
    }
}

#[test]
fn malformed_specs_are_refused_with_a_clear_message() {
    for (spec, says) in [
        ("", "Name a target"),
        (".env", "Unknown target kind '.env'"),
        ("dotenv", "Name the .env file"),
        ("dotenv:", "Name the .env file"),
        ("dotenv::API_KEY", "Name the .env file"),
        ("yml:config.yml:a.b", "Unknown target kind 'yml'"),
        ("aws-secret:prod", "Name the AWS connection and the secret"),
        (
            "ssm::/team/key",
            "Name the AWS connection and the parameter",
        ),
        ("ssm:prod:no spaces", "parameter name"),
        ("manual", "not a command-line target"),
        ("manual:Heroku", "not a command-line target"),
        ("dotenv:.env\n:K", "control characters"),
        ("json:/x:", "json:PATH:KEY.PATH"),
        ("json:/x", "json:PATH:KEY.PATH"),
        ("json::k", "json:PATH:KEY.PATH"),
        ("json:/x:a..b", "json:PATH:KEY.PATH"),
        ("toml:/x:", "toml:PATH:KEY.PATH"),
        ("yaml:/x:", "yaml:PATH:KEY.PATH"),
        ("yaml::k", "yaml:PATH:KEY.PATH"),
        ("aws-credentials:/x", "aws-credentials:PATH:PROFILE"),
        ("aws-credentials::default", "aws-credentials:PATH:PROFILE"),
        ("aws-credentials:/x:a b", "aws-credentials:PATH:PROFILE"),
        ("aws-credentials:/x:DEFAULT", "aws-credentials:PATH:PROFILE"),
        ("gitlab:gl:42", "gitlab:PROVIDER:PROJECT_ID:VARIABLE"),
        ("gitlab::42:K", "gitlab:PROVIDER:PROJECT_ID:VARIABLE"),
        ("gitlab:gl:42:K:", "gitlab:PROVIDER:PROJECT_ID:VARIABLE"),
        ("gitlab:gl:42:9K", "not a GitLab variable name"),
        ("vercel:vc:app", "vercel:PROVIDER:PROJECT:VARIABLE"),
        ("vercel:vc:app:K:x", "vercel:PROVIDER:PROJECT:VARIABLE"),
        ("vercel:vc::K", "vercel:PROVIDER:PROJECT:VARIABLE"),
        ("vercel:vc:app:A-B", "not a Vercel variable name"),
        (
            "netlify:nf:acct:K",
            "netlify:PROVIDER:ACCOUNT:SITE:VARIABLE",
        ),
        (
            "netlify:nf::site:K",
            "netlify:PROVIDER:ACCOUNT:SITE:VARIABLE",
        ),
        ("netlify:nf:a:s:K K", "not a Netlify variable name"),
    ] {
        let e = spec.parse::<TargetSpec>().expect_err(spec);
        assert_eq!(e.code().as_str(), "invalid_input", "{spec}");
        assert!(e.to_string().contains(says), "{spec}: {e}");
    }
}

#[test]
fn a_missing_variable_is_the_keys_own() {
    let spec = parse("dotenv:.env").with_default_var("ACME_API_KEY");
    assert_eq!(spec.expect("var"), dotenv(".env", "ACME_API_KEY"));
    let kept = parse("dotenv:.env:MINE").with_default_var("ACME_API_KEY");
    assert_eq!(kept.expect("var"), dotenv(".env", "MINE"));
    let none = parse("dotenv:.env").with_default_var("");
    assert!(none
        .expect_err("no variable")
        .to_string()
        .contains("dotenv:.env:VAR"));
    assert_eq!(
        parse("dotenv:.env:K").following_symlinks(true),
        TargetSpec::Dotenv {
            path: ".env".into(),
            var: "K".into(),
            follow_symlink: true
        }
    );
}

#[test]
fn targets_describe_themselves_as_the_wizard_shows_them() {
    assert_eq!(parse("dotenv:/a/.env:K").describe(), "K in /a/.env");
    assert_eq!(parse("json:/a/c.json:a.b").describe(), "a.b in /a/c.json");
    let checklist = TargetSpec::Manual {
        items: vec!["Heroku".into(), "CI".into()],
    };
    assert_eq!(checklist.describe(), "checklist (2 items)");
    assert_eq!(checklist.to_string(), "manual");
    assert!(checklist.open(OpenWith::nothing()).by_hand());
}

#[test]
fn yaml_and_aws_credentials_specs_follow_symlinks_and_describe_themselves() {
    assert_eq!(
        parse("yaml:/h/.oanim/credentials.yaml:api_key").following_symlinks(true),
        TargetSpec::Yaml {
            path: "/h/.oanim/credentials.yaml".into(),
            key: "api_key".into(),
            follow_symlink: true
        }
    );
    assert_eq!(
        parse("aws-credentials:a:b:c.d").following_symlinks(true),
        TargetSpec::AwsCredentials {
            path: "a:b".into(),
            profile: "c.d".into(),
            follow_symlink: true
        }
    );
    assert_eq!(
        parse("aws-credentials:/h/.aws/credentials:work").describe(),
        "work in /h/.aws/credentials"
    );
}
