//! What the command line accepts: every command, its arguments and its help.
//! The bodies are in `commands/`, the printing in `output.rs`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  latchkey list
  echo \"$ADMIN_TOKEN\" | latchkey providers add --kind keyservice --name acme \\
      --base-url https://keys.example.com --project web
  latchkey create --provider acme --name ci-deploy --env-var ACME_API_KEY --scope read --copy
  latchkey copy ci-deploy
  latchkey rotate ci-deploy --dotenv .env:ACME_API_KEY --yes
  latchkey rotate ci-deploy --target dotenv:app/.env:ACME_API_KEY --yes
  latchkey rotate --resume
  latchkey check .
  latchkey run -- npm test
  latchkey import .env --provider acme
  latchkey settings --clipboard-clear-secs 20 --rotation-policy-days 60
  latchkey audit verify

Exit codes:
  0  success
  1  the operation failed (the service refused, a file changed, a rollback)
  2  bad usage or input (unknown or ambiguous name, invalid value)
  3  the keychain is locked, missing or not persistent
  4  a provider could not be reached or answered badly
  5  the key already has an unfinished rotation
  6  check: a variable is not set, or set to a revoked or unknown key
  7  audit verify: the audit log was altered, cut short or cannot be checked
  run exits with the command's own exit code.

Errors print as `latchkey: <message> [<code>]` (with --json: {\"error\":{\"code\",\"message\"}}
on stderr); the codes are the desktop app's. LATCHKEY_DATA_DIR overrides the data
directory, LATCHKEY_CLIPBOARD_CLEAR_SECS the clipboard timeout over the settings' value
(default 30).";

/// Latchkey: your API keys, from a shell. Shares the keychain and catalog
/// with the desktop app.
#[derive(Debug, Parser)]
#[command(name = "latchkey", version, after_help = EXAMPLES, color = color_choice())]
pub struct Args {
    /// JSON on stdout (read commands) and errors as JSON on stderr.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// clap styles help and errors only on a terminal that takes colour;
/// `NO_COLOR` (set and not empty, <https://no-color.org>) turns that off
/// outright. The CLI's own output is never styled (see `output.rs`).
fn color_choice() -> clap::ColorChoice {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        clap::ColorChoice::Never
    } else {
        clap::ColorChoice::Auto
    }
}

impl Args {
    /// Whether errors should be JSON (`--json` anywhere on the line).
    pub fn json_errors(&self) -> bool {
        self.json
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every key across providers (synced with each provider first): one
    /// row per key; a rotated key's older generations only with --all.
    List {
        /// Every generation, the revoked ones a rotation replaced too.
        #[arg(long)]
        all: bool,
    },
    /// Which keys need attention: rotation due, expiring within 14 days,
    /// expired, unused for 90 days, not verified, on unreachable services.
    /// Exit 0 when none does, 6 otherwise.
    Status,
    /// Creates a key on a provider and saves it in the keychain. Prints it
    /// once on stdout, unless --copy puts it on the clipboard instead.
    Create {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        name: String,
        /// The environment variable the key is meant for (check, run, rotate).
        #[arg(long)]
        env_var: Option<String>,
        /// A permission; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// A label such as production or staging.
        #[arg(long)]
        environment: Option<String>,
        #[arg(long)]
        copy: bool,
    },
    /// Copies a key to the clipboard and stays until it is cleared.
    Copy {
        name: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// Revokes a key on its service and confirms the service rejects it.
    Revoke {
        name: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// Provider connections.
    Providers {
        #[command(subcommand)]
        command: ProvidersCommand,
    },
    /// Rotates a key: create → deploy → verify → revoke, resumable.
    Rotate {
        /// The key to rotate.
        #[arg(required_unless_present_any = ["resume", "rollback", "reactivate"], conflicts_with_all = ["resume", "rollback", "reactivate"])]
        name: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        /// Where the new key goes: dotenv:PATH[:VAR] (VAR defaults to the
        /// key's --env-var), github:CONNECTION:OWNER/REPO:SECRET[:ENVIRONMENT]
        /// (a GitHub Actions secret), gitlab:CONNECTION:PROJECT_ID:VARIABLE[:SCOPE],
        /// vercel:CONNECTION:PROJECT:VARIABLE or
        /// netlify:CONNECTION:ACCOUNT:SITE:VARIABLE. Repeat for several targets.
        #[arg(long = "target", value_name = "SPEC")]
        target: Vec<String>,
        /// Shorthand for --target dotenv:PATH[:VAR]. Repeat for several files.
        #[arg(long = "dotenv", value_name = "PATH[:VAR]")]
        dotenv: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Write through a .env that is a symbolic link, to the file it
        /// points to (the link is kept). Without it such a file is refused.
        #[arg(long)]
        follow_symlinks: bool,
        /// When the service has no room for the new key (AWS: two access
        /// keys per user), delete this other key first. Never implied by
        /// --yes.
        #[arg(long, value_name = "KEY_ID")]
        delete_other: Option<String>,
        /// Resume an unfinished rotation (no ID: every unfinished one).
        #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
        resume: Option<String>,
        /// Roll an unfinished rotation back.
        #[arg(long, value_name = "ID")]
        rollback: Option<String>,
        /// Undo a deactivate-first rotation whose old key is switched off:
        /// the old key is switched on again and the rotation rolls back.
        #[arg(long, value_name = "ID")]
        reactivate: Option<String>,
        /// How the keys are swapped: overlap, deactivate-first or
        /// roll-in-place (default: the safest the service can do).
        #[arg(long, value_name = "STRATEGY")]
        strategy: Option<String>,
        /// Revoke the old key even though the service says something used
        /// it after the new key was deployed.
        #[arg(long)]
        force_revoke: bool,
    },
    /// Puts the key the vault holds now into more places, without rotating
    /// it: every target is checked first, written, then read back; a
    /// failure puts back the targets already written. The places are
    /// remembered on the key (`latchkey targets`).
    Deploy {
        /// The key to deploy.
        name: String,
        #[arg(long)]
        provider: Option<String>,
        /// Where the key goes: dotenv:PATH[:VAR] (VAR defaults to the key's
        /// --env-var). Repeat for several targets.
        #[arg(long = "target", value_name = "SPEC")]
        target: Vec<String>,
        /// Shorthand for --target dotenv:PATH[:VAR].
        #[arg(long = "dotenv", value_name = "PATH[:VAR]")]
        dotenv: Vec<String>,
        /// Accepted for symmetry with `rotate` (deploy asks nothing).
        #[arg(long)]
        yes: bool,
        /// Write through a file that is a symbolic link, to the file it
        /// points to (the link is kept). Without it such a file is refused.
        #[arg(long)]
        follow_symlinks: bool,
    },
    /// Unfinished and past rotations.
    Rotations,
    /// Where a key was deployed by its rotations and by `latchkey deploy`
    /// (offered again at its next rotation).
    Targets {
        name: String,
        #[arg(long)]
        provider: Option<String>,
    },
    /// The services Latchkey knows: their env vars, the credential each
    /// needs, where keys are made, how rotation works there.
    Services,
    /// Which of the vault's variables are set here (environment and .env files).
    Check { dir: Option<PathBuf> },
    /// Finds the vault's keys in a folder's files (by fingerprint; values
    /// are never printed). Skips .git, node_modules, target and files over
    /// 1 MiB. Exit 6 when a file git tracks holds a key (leaked: rotate it).
    Scan { dir: Option<PathBuf> },
    /// Runs a command with the vault's keys in its environment.
    Run {
        /// Also load this .env file (the vault's keys win).
        #[arg(long)]
        env_file: Option<PathBuf>,
        #[arg(last = true, required = true, value_name = "CMD ARGS")]
        command: Vec<String>,
    },
    /// Brings a .env file's keys under management (named after their variables).
    Import {
        path: PathBuf,
        #[arg(long)]
        provider: Option<String>,
        /// Import only this variable; repeat for several (default: those that look like keys).
        #[arg(long = "var")]
        vars: Vec<String>,
        /// Let a pasted key take the place of a secret the vault holds for
        /// the same key on the service (it must pass the service's check).
        #[arg(long)]
        replace: bool,
    },
    /// Shows the settings shared with the desktop app; the options change them.
    Settings {
        /// Seconds before a copied key is cleared (5 to 600).
        #[arg(long, value_name = "SECS")]
        clipboard_clear_secs: Option<u32>,
        /// Days after which a key is due for rotation (1 to 3650).
        #[arg(long, value_name = "DAYS")]
        rotation_policy_days: Option<u32>,
        /// The daily desktop reminder about keys due for rotation.
        #[arg(long, value_parser = ["on", "off"])]
        reminders: Option<String>,
    },
    /// The audit log: recent entries (no subcommand), or `verify`.
    Audit {
        #[command(subcommand)]
        command: Option<AuditCommand>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Prints the shell completion script for bash, zsh or fish, e.g.
    /// `source <(latchkey completions bash)`. Opens neither the vault nor
    /// the keychain.
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
}

/// `latchkey completions <SHELL>`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// `latchkey audit`: the audit log shared with the desktop app.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Checks every entry's signature, that none is missing, and the log
    /// against its head. Exit 0 when verified, 7 otherwise.
    Verify,
    /// The most recent entries, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// The whole log with key and service names, to stdout, as CSV
    /// (RFC 4180) or JSON.
    Export {
        #[arg(long, value_enum, default_value = "csv")]
        format: AuditFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// Adds a connection: `--kind keyservice` (the reference service), or
    /// `--service ID` for any service of `latchkey services`. A management
    /// credential is read from LATCHKEY_ADMIN_TOKEN or stdin, never from an
    /// argument.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["kind", "service"])))]
    Add {
        #[arg(long, value_parser = ["keyservice"])]
        kind: Option<String>,
        /// A catalogue service id (see `latchkey services`).
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        name: String,
        #[arg(long)]
        base_url: Option<String>,
        /// The project whose keys are managed (GitLab: its id or path,
        /// for its project access tokens instead of personal ones).
        #[arg(long)]
        project: Option<String>,
        /// AWS: the region for regional calls (default us-east-1).
        #[arg(long)]
        region: Option<String>,
        /// AWS: the IAM user whose access keys are managed (default the
        /// user the credential belongs to).
        #[arg(long)]
        user: Option<String>,
    },
    List,
    /// Tests a connection with an authenticated call.
    Test {
        name: String,
    },
    /// Replaces a connection's management credential (a rotated admin
    /// token, a new access key pair, one missing from this keychain), read
    /// from LATCHKEY_ADMIN_TOKEN or stdin. The service must accept it
    /// first; otherwise the old one stays.
    SetToken {
        name: String,
    },
    /// Removes a connection that holds no keys (revoked ones count), and
    /// its credential in the keychain. With --forget-keys COUNT, one that
    /// holds COUNT keys too: Latchkey forgets them (their secrets leave the
    /// keychain, their history the catalog); they stay as they are on the
    /// service, so revoke first any that should stop working.
    Remove {
        name: String,
        /// How many keys the connection holds, revoked ones included
        /// (`latchkey list --all`, PROVIDER column): another number refuses.
        #[arg(long, value_name = "COUNT")]
        forget_keys: Option<usize>,
    },
}

/// `latchkey audit export --format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AuditFormat {
    Csv,
    Json,
}
