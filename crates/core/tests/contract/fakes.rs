//! The fakes' sides: each service's fake from the test kit, its keys read
//! straight from the fake's state (a `Ledger`), with the credential a
//! person would give the connection. Where the service's honest behaviour
//! needs a setting, it is the fake's documented one: Dakora's revocation
//! cache window is 0 here (its own suite covers the 5 s window), and Open
//! Animate makes working keys (no forced `_` ids).

use std::time::Duration;

use latchkey_testkit::fakes::cloudflare::FakeCloudflare;
use latchkey_testkit::fakes::dakora::{self, FakeDakora};
use latchkey_testkit::fakes::github::{self, FakeGithub};
use latchkey_testkit::fakes::gitlab::{self, FakeGitlab};
use latchkey_testkit::fakes::netlify::{self, FakeNetlify};
use latchkey_testkit::fakes::open_animate::FakeOpenAnimate;
use latchkey_testkit::fakes::openai::{self, FakeOpenAi};
use latchkey_testkit::fakes::openrouter::FakeOpenRouter;
use latchkey_testkit::fakes::sendgrid::FakeSendgrid;
use latchkey_testkit::fakes::twilio::FakeTwilio;
use latchkey_testkit::fakes::vercel::{self, FakeVercel};

use super::{Held, Ledger, Started};

/// A service that only checks a token (GitHub, Netlify): its fake knows
/// exactly two, the connection's and a read-only one a person made in the
/// dashboard, which is the key the contract works on.
fn token_check(base: &str, token: &'static str, read_only: &'static str) -> Started {
    let side = Ledger::new(token, move || {
        vec![Held::new(token, true), Held::new(read_only, true)]
    })
    .by_hand("read-only", read_only);
    Started::new(base, token, side)
}

pub async fn github() -> Started {
    let fake = FakeGithub::start().await;
    token_check(&fake.base, github::TOKEN, github::READ_ONLY)
}

pub async fn netlify() -> Started {
    let fake = FakeNetlify::start().await;
    token_check(&fake.base, netlify::TOKEN, netlify::READ_ONLY)
}

/// The user's personal access tokens; GitLab cannot make one through the
/// API, so the key worked on is the user's `ci` token (id 2).
pub async fn gitlab() -> Started {
    let fake = FakeGitlab::start().await;
    let base = fake.base.clone();
    let side = Ledger::new(gitlab::TOKEN, move || {
        fake.tokens()
            .into_iter()
            .filter(|t| t.project.is_none())
            .map(|t| Held::new(t.value, t.active && !t.revoked))
            .collect()
    })
    .by_hand("2", gitlab::CI_TOKEN);
    Started::new(&base, gitlab::TOKEN, side)
}

pub async fn vercel() -> Started {
    let fake = FakeVercel::start().await;
    let base = fake.base.clone();
    let side = Ledger::new(vercel::TOKEN, move || {
        fake.tokens()
            .into_iter()
            .map(|t| Held::new(t.value, true))
            .collect()
    });
    Started::new(&base, vercel::TOKEN, side)
}

/// A token made from the "Create additional tokens" template.
pub async fn cloudflare() -> Started {
    let fake = FakeCloudflare::start().await;
    let admin = fake.seed_token("latchkey", true);
    let base = fake.base.clone();
    let side = Ledger::new(&admin, move || {
        fake.inner()
            .tokens
            .iter()
            .map(|t| Held::new(t.value.clone(), t.status == "active"))
            .collect()
    });
    Started::new(&base, &admin, side)
}

/// Signed in with a session token (a JWT), as the app's Add service does.
pub async fn dakora() -> Started {
    let fake = FakeDakora::start(Duration::ZERO).await;
    let (base, project) = (fake.base.clone(), fake.project.clone());
    let side = Ledger::new(dakora::JWT, move || {
        fake.inner()
            .keys
            .iter()
            .map(|k| Held::new(k.key.clone(), k.revoked.is_none()))
            .collect()
    })
    .made_up("dkr_11111111111111111111111111111111111111111111");
    Started::new(&base, dakora::JWT, side).project(&project)
}

/// Signed in with a key of the account (what `oanim login` holds).
pub async fn open_animate() -> Started {
    let fake = FakeOpenAnimate::start().await;
    let admin = fake.seed_key("latchkey");
    let base = fake.base.clone();
    let side = Ledger::new(&admin, move || {
        fake.inner()
            .keys
            .iter()
            .map(|k| Held::new(k.key.clone(), true))
            .collect()
    })
    .made_up("anim_AAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    Started::new(&base, &admin, side)
}

/// Signed in with a management key; a disabled key is not live.
pub async fn openrouter() -> Started {
    let fake = FakeOpenRouter::start().await;
    let management = fake.seed_management_key();
    let base = fake.base.clone();
    let side = Ledger::new(&management, move || {
        fake.inner()
            .keys
            .iter()
            .map(|k| Held::new(k.key.clone(), !k.disabled))
            .collect()
    });
    Started::new(&base, &management, side)
}

/// The project's admin key (not one of its keys).
pub async fn openai() -> Started {
    let fake = FakeOpenAi::start().await;
    let (base, admin) = (fake.base.clone(), fake.admin.clone());
    let side = Ledger::new(&admin, move || {
        fake.inner()
            .keys
            .iter()
            .map(|k| Held::new(k.value.clone(), true))
            .collect()
    })
    .made_up("sk-proj-madeupmadeupmadeupmadeupmadeupmadeup0000");
    Started::new(&base, &admin, side).project(openai::PROJECT)
}

pub async fn sendgrid() -> Started {
    let fake = FakeSendgrid::start().await;
    let admin = fake.seed_admin_key();
    let base = fake.base.clone();
    let side = Ledger::new(&admin, move || {
        fake.inner()
            .keys
            .iter()
            .map(|k| Held::new(k.key.clone(), true))
            .collect()
    })
    .scopes(&["mail.send"]);
    Started::new(&base, &admin, side)
}

/// Signed in with the account's SID and auth token; a key is
/// `SKSID:SECRET`.
pub async fn twilio() -> Started {
    let fake = FakeTwilio::start().await;
    let (base, credential) = (fake.base.clone(), fake.credential.clone());
    let side = Ledger::new(&credential, move || {
        fake.inner()
            .keys
            .iter()
            .map(|k| Held::new(format!("{}:{}", k.sid, k.secret), true))
            .collect()
    })
    .made_up("SK00000000000000000000000000000000:madeupmadeupmadeupmadeupmadeup00");
    Started::new(&base, &credential, side)
}
