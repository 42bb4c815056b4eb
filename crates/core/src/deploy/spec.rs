//! [`TargetSpec`]: a target as the journal keeps it (its serde shape is
//! the rotation journal's and never changes) and as the command line spells
//! it (`FromStr` / `Display`: `dotenv:PATH[:VAR]`). `TargetSpec::open` is
//! the only `match` on target kinds: everything else calls the
//! [`DeployTarget`] it returns.
//!
//! Spec grammar: `KIND:REST`. For `dotenv`, REST is `PATH[:VAR]`, split on
//! the last colon only when what follows it is an environment variable name
//! (`[A-Za-z_][A-Za-z0-9_]*`), so `C:\app\.env` and other paths with colons
//! stay whole; a trailing `:` says "no variable" for a path that would
//! otherwise read as `PATH:VAR`. Without a variable the key's own
//! (`with_default_var`) is used. The checklist is not a command-line spec.
//!
//! Room for the next kinds (issue 14), one arm each in `from_str`,
//! `fmt` and `open`, a file kind only adding an `Editor`:
//! `aws-credentials:PATH:PROFILE`, `yaml:PATH:KEY.PATH`, `json:PATH:KEY.PATH`,
//! `toml:PATH:KEY.PATH`, `github:PROVIDER:OWNER/REPO:SECRET[:ENVIRONMENT]`,
//! `gitlab:PROVIDER:PROJECT_ID:VARIABLE[:SCOPE]`, `vercel:PROVIDER:PROJECT:VARIABLE`,
//! `netlify:PROVIDER:ACCOUNT:SITE:VARIABLE`, `aws-secret:…`, `ssm:…`.

use std::fmt;
use std::str::FromStr;

use super::{AwsCredentialsEditor, YamlEditor};
use super::{
    AwsStore, AwsStoreVariable, ChecklistTarget, DeployTarget, DotenvEditor, FileTarget,
    GithubTarget, GitlabVariable, JsonEditor, NetlifyVariable, OpenWith, TomlEditor,
    VariableTarget, VercelVariable,
};
use crate::catalog::TargetSpec;
use crate::error::{Error, Result};

const USAGE: &str = "use dotenv:PATH[:VAR], json:PATH:KEY.PATH, toml:PATH:KEY.PATH, yaml:PATH:KEY.PATH, aws-credentials:PATH:PROFILE, github:PROVIDER:OWNER/REPO:SECRET[:ENVIRONMENT], gitlab:PROVIDER:PROJECT_ID:VARIABLE[:SCOPE], vercel:PROVIDER:PROJECT:VARIABLE, netlify:PROVIDER:ACCOUNT:SITE:VARIABLE, aws-secret:PROVIDER:SECRET_ID or ssm:PROVIDER:PARAMETER_NAME";

const GITLAB: &str = "use gitlab:PROVIDER:PROJECT_ID:VARIABLE[:SCOPE]";
const VERCEL: &str = "use vercel:PROVIDER:PROJECT:VARIABLE";
const NETLIFY: &str = "use netlify:PROVIDER:ACCOUNT:SITE:VARIABLE";

fn refused(message: impl Into<String>) -> Error {
    Error::invalid("target", message)
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what may follow a path's last colon as a VAR.
pub(crate) fn is_var_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl TargetSpec {
    /// The target this spec names; `with` gives a checklist's confirmed
    /// items and a remote target its connection and deployed note. The
    /// only `match` on kinds.
    pub fn open(&self, with: OpenWith<'_>) -> Box<dyn DeployTarget> {
        match self {
            TargetSpec::Dotenv {
                path,
                var,
                follow_symlink,
            } => Box::new(FileTarget::<DotenvEditor>::new(path, var, *follow_symlink)),
            TargetSpec::Manual { items } => {
                Box::new(ChecklistTarget::new(items.clone(), with.confirmed.to_vec()))
            }
            TargetSpec::Github {
                provider,
                repo,
                secret,
                environment,
            } => Box::new(GithubTarget::new(
                provider,
                repo,
                secret,
                environment.as_deref(),
                with.connections.remote("github", provider),
                with.deployed,
            )),
            TargetSpec::AwsSecret {
                provider,
                secret_id,
            } => Box::new(VariableTarget::new(AwsStoreVariable::new(
                AwsStore::SecretsManager,
                provider,
                secret_id,
                with.connections.remote("aws", provider),
            ))),
            TargetSpec::Ssm { provider, name } => {
                Box::new(VariableTarget::new(AwsStoreVariable::new(
                    AwsStore::Ssm,
                    provider,
                    name,
                    with.connections.remote("aws", provider),
                )))
            }
            TargetSpec::Json {
                path,
                key,
                follow_symlink,
            } => Box::new(FileTarget::<JsonEditor>::new(path, key, *follow_symlink)),
            TargetSpec::Toml {
                path,
                key,
                follow_symlink,
            } => Box::new(FileTarget::<TomlEditor>::new(path, key, *follow_symlink)),
            TargetSpec::Yaml {
                path,
                key,
                follow_symlink,
            } => Box::new(FileTarget::<YamlEditor>::new(path, key, *follow_symlink)),
            TargetSpec::AwsCredentials {
                path,
                profile,
                follow_symlink,
            } => Box::new(FileTarget::<AwsCredentialsEditor>::new(
                path,
                profile,
                *follow_symlink,
            )),
            TargetSpec::Gitlab {
                provider,
                project,
                variable,
                scope,
            } => Box::new(VariableTarget::new(GitlabVariable::new(
                provider,
                project,
                variable,
                scope.as_deref(),
                with.connections.remote("gitlab", provider),
            ))),
            TargetSpec::Vercel {
                provider,
                project,
                variable,
            } => Box::new(VariableTarget::new(VercelVariable::new(
                provider,
                project,
                variable,
                with.connections.remote("vercel", provider),
            ))),
            TargetSpec::Netlify {
                provider,
                account,
                site,
                variable,
            } => Box::new(VariableTarget::new(NetlifyVariable::new(
                provider,
                account,
                site,
                variable,
                with.connections.remote("netlify", provider),
            ))),
        }
    }

    /// Plain words for the target: `API_KEY in /app/.env`.
    pub fn describe(&self) -> String {
        self.open(OpenWith::nothing()).describe()
    }

    /// Fills a missing variable with the key's own (`default`); refused
    /// when there is neither.
    pub fn with_default_var(self, default: &str) -> Result<Self> {
        match self {
            TargetSpec::Dotenv {
                path,
                var,
                follow_symlink,
            } if var.is_empty() => {
                if default.is_empty() {
                    return Err(refused(format!(
                        "Say which variable in {path} holds the key: dotenv:{path}:VAR"
                    )));
                }
                Ok(TargetSpec::Dotenv {
                    path,
                    var: default.to_owned(),
                    follow_symlink,
                })
            }
            other => Ok(other),
        }
    }

    /// Writes through a symbolic link (the user said yes to following it).
    pub fn following_symlinks(self, yes: bool) -> Self {
        match self {
            TargetSpec::Dotenv { path, var, .. } => TargetSpec::Dotenv {
                path,
                var,
                follow_symlink: yes,
            },
            TargetSpec::Json { path, key, .. } => TargetSpec::Json {
                path,
                key,
                follow_symlink: yes,
            },
            TargetSpec::Toml { path, key, .. } => TargetSpec::Toml {
                path,
                key,
                follow_symlink: yes,
            },
            TargetSpec::Yaml { path, key, .. } => TargetSpec::Yaml {
                path,
                key,
                follow_symlink: yes,
            },
            TargetSpec::AwsCredentials { path, profile, .. } => TargetSpec::AwsCredentials {
                path,
                profile,
                follow_symlink: yes,
            },
            other => other,
        }
    }
}

impl FromStr for TargetSpec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        if spec.chars().any(char::is_control) {
            return Err(refused(
                "A target cannot contain control characters (tabs, newlines)",
            ));
        }
        let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
        match kind {
            "dotenv" => {
                let (path, var) = match rest.strip_suffix(':') {
                    Some(path) => (path, ""),
                    None => match rest.rsplit_once(':') {
                        Some((path, var)) if is_var_name(var) => (path, var),
                        _ => (rest, ""),
                    },
                };
                if path.is_empty() {
                    return Err(refused(format!(
                        "Name the .env file in '{spec}': {USAGE}"
                    )));
                }
                Ok(TargetSpec::Dotenv {
                    path: path.to_owned(),
                    var: var.to_owned(),
                    follow_symlink: false,
                })
            }
            "github" => {
                const GITHUB: &str = "use github:PROVIDER:OWNER/REPO:SECRET[:ENVIRONMENT]";
                let parts: Vec<&str> = rest.splitn(4, ':').collect();
                let (provider, repo, secret, environment) = match parts.as_slice() {
                    [p, r, s] => (*p, *r, *s, None),
                    [p, r, s, e] => (*p, *r, *s, Some(*e)),
                    _ => return Err(refused(format!("'{spec}' is not a GitHub target: {GITHUB}"))),
                };
                if provider.is_empty() {
                    return Err(refused(format!("Name the GitHub connection: {GITHUB}")));
                }
                super::github::check_repo(repo)?;
                super::github::check_secret_name(secret)?;
                if environment.is_some_and(|e| e.is_empty() || e.contains(':')) {
                    return Err(refused(format!("Name the environment: {GITHUB}")));
                }
                Ok(TargetSpec::Github {
                    provider: provider.to_owned(),
                    repo: repo.to_owned(),
                    secret: secret.to_owned(),
                    environment: environment.map(str::to_owned),
                })
            }
            "json" | "toml" => {
                let (path, key) = rest.rsplit_once(':').unwrap_or((rest, ""));
                if path.is_empty() || !super::json::valid_key_path(key) {
                    return Err(refused(format!(
                        "Name the file and a dotted key path in '{spec}': {kind}:PATH:KEY.PATH"
                    )));
                }
                let (path, key) = (path.to_owned(), key.to_owned());
                Ok(if kind == "json" {
                    TargetSpec::Json {
                        path,
                        key,
                        follow_symlink: false,
                    }
                } else {
                    TargetSpec::Toml {
                        path,
                        key,
                        follow_symlink: false,
                    }
                })
            }
            "manual" | "checklist" => Err(refused(
                "A checklist is not a command-line target: make one in the desktop app's Rotate wizard",
            )),
            "aws-secret" | "ssm" => {
                // PROVIDER:ID, split on the first colon: a secret's id may
                // be an ARN, which has colons of its own.
                let (provider, id) = rest.split_once(':').unwrap_or((rest, ""));
                let store = if kind == "ssm" {
                    AwsStore::Ssm
                } else {
                    AwsStore::SecretsManager
                };
                if provider.is_empty() || id.is_empty() {
                    return Err(refused(format!(
                        "Name the AWS connection and the {} in '{spec}': {kind}:PROVIDER:{}",
                        store.noun(),
                        store.placeholder()
                    )));
                }
                store.check_name(id)?;
                Ok(store.spec(provider, id))
            }
            "yaml" => {
                let (path, key) = rest.rsplit_once(':').unwrap_or((rest, ""));
                if path.is_empty() || !super::json::valid_key_path(key) {
                    return Err(refused(format!(
                        "Name the file and a dotted key path in '{spec}': yaml:PATH:KEY.PATH"
                    )));
                }
                Ok(TargetSpec::Yaml {
                    path: path.to_owned(),
                    key: key.to_owned(),
                    follow_symlink: false,
                })
            }
            "aws-credentials" => {
                let (path, profile) = rest.rsplit_once(':').unwrap_or((rest, ""));
                if path.is_empty() || !super::aws_credentials::valid_profile(profile) {
                    return Err(refused(format!(
                        "Name the credentials file and a profile (letters, digits, '_', '.', '-') in '{spec}': aws-credentials:PATH:PROFILE (e.g. aws-credentials:~/.aws/credentials:default)"
                    )));
                }
                Ok(TargetSpec::AwsCredentials {
                    path: path.to_owned(),
                    profile: profile.to_owned(),
                    follow_symlink: false,
                })
            }
            "gitlab" => {
                let parts: Vec<&str> = rest.splitn(4, ':').collect();
                let (provider, project, variable, scope) = match parts.as_slice() {
                    [p, i, v] => (*p, *i, *v, None),
                    [p, i, v, s] => (*p, *i, *v, Some(*s)),
                    _ => return Err(refused(format!("'{spec}' is not a GitLab target: {GITLAB}"))),
                };
                if provider.is_empty() || project.is_empty() || scope.is_some_and(|s| s.is_empty() || s.contains(':')) {
                    return Err(refused(format!("Name the GitLab connection, the project and the variable: {GITLAB}")));
                }
                super::remote_value::check_variable("GitLab", variable, 255)?;
                Ok(TargetSpec::Gitlab {
                    provider: provider.to_owned(),
                    project: project.to_owned(),
                    variable: variable.to_owned(),
                    scope: scope.map(str::to_owned),
                })
            }
            "vercel" => {
                let parts: Vec<&str> = rest.split(':').collect();
                let [provider, project, variable] = parts.as_slice() else {
                    return Err(refused(format!("'{spec}' is not a Vercel target: {VERCEL}")));
                };
                if provider.is_empty() || project.is_empty() {
                    return Err(refused(format!("Name the Vercel connection, the project and the variable: {VERCEL}")));
                }
                super::remote_value::check_variable("Vercel", variable, 256)?;
                Ok(TargetSpec::Vercel {
                    provider: (*provider).to_owned(),
                    project: (*project).to_owned(),
                    variable: (*variable).to_owned(),
                })
            }
            "netlify" => {
                let parts: Vec<&str> = rest.split(':').collect();
                let [provider, account, site, variable] = parts.as_slice() else {
                    return Err(refused(format!("'{spec}' is not a Netlify target: {NETLIFY}")));
                };
                if provider.is_empty() || account.is_empty() || site.is_empty() {
                    return Err(refused(format!("Name the Netlify connection, the account, the site and the variable: {NETLIFY}")));
                }
                super::remote_value::check_variable("Netlify", variable, 255)?;
                Ok(TargetSpec::Netlify {
                    provider: (*provider).to_owned(),
                    account: (*account).to_owned(),
                    site: (*site).to_owned(),
                    variable: (*variable).to_owned(),
                })
            }
            "" => Err(refused(format!("Name a target: {USAGE}"))),
            other => Err(refused(format!(
                "Unknown target kind '{other}': {USAGE}"
            ))),
        }
    }
}

/// The command-line spelling; a checklist prints as `manual`, which does
/// not parse back (it is not a command-line target).
impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::Dotenv { path, var, .. } if var.is_empty() => {
                let ambiguous = path.ends_with(':')
                    || path
                        .rsplit_once(':')
                        .is_some_and(|(_, tail)| is_var_name(tail));
                write!(f, "dotenv:{path}{}", if ambiguous { ":" } else { "" })
            }
            TargetSpec::Dotenv { path, var, .. } => write!(f, "dotenv:{path}:{var}"),
            TargetSpec::Manual { .. } => f.write_str("manual"),
            TargetSpec::Github {
                provider,
                repo,
                secret,
                environment,
            } => {
                write!(f, "github:{provider}:{repo}:{secret}")?;
                match environment {
                    Some(env) => write!(f, ":{env}"),
                    None => Ok(()),
                }
            }
            TargetSpec::AwsSecret {
                provider,
                secret_id,
            } => write!(f, "aws-secret:{provider}:{secret_id}"),
            TargetSpec::Ssm { provider, name } => write!(f, "ssm:{provider}:{name}"),
            TargetSpec::Json { path, key, .. } => write!(f, "json:{path}:{key}"),
            TargetSpec::Toml { path, key, .. } => write!(f, "toml:{path}:{key}"),
            TargetSpec::Yaml { path, key, .. } => write!(f, "yaml:{path}:{key}"),
            TargetSpec::AwsCredentials { path, profile, .. } => {
                write!(f, "aws-credentials:{path}:{profile}")
            }
            TargetSpec::Gitlab {
                provider,
                project,
                variable,
                scope,
            } => {
                write!(f, "gitlab:{provider}:{project}:{variable}")?;
                match scope {
                    Some(s) => write!(f, ":{s}"),
                    None => Ok(()),
                }
            }
            TargetSpec::Vercel {
                provider,
                project,
                variable,
            } => write!(f, "vercel:{provider}:{project}:{variable}"),
            TargetSpec::Netlify {
                provider,
                account,
                site,
                variable,
            } => write!(f, "netlify:{provider}:{account}:{site}:{variable}"),
        }
    }
}

#[cfg(test)]
mod tests;
