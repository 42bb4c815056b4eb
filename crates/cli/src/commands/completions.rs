//! `latchkey completions bash|zsh|fish`: the completion script clap_complete
//! writes from the same definitions the parser uses (`args.rs`), so it never
//! falls behind a new command or flag.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::{Args, CompletionShell};
use crate::output::EXIT_OK;

pub fn print(shell: CompletionShell) -> u8 {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut command = Args::command();
    clap_complete::generate(shell, &mut command, "latchkey", &mut std::io::stdout());
    EXIT_OK
}
