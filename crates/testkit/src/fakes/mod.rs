//! Fake services on loopback, each written from the service's documented
//! shapes (`shared/services/`), quirks included; one module a service,
//! named as the connector is.
pub mod cloudflare;
pub mod dakora;
pub mod github;
pub mod gitlab;
pub mod netlify;
pub mod open_animate;
pub mod openai;
pub mod openrouter;
pub mod sendgrid;
pub mod twilio;
pub mod vercel;
