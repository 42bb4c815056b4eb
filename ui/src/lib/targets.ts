import type { TargetSpec } from "./bindings/TargetSpec";

/** A deploy target in plain words, as the wizard and key details show it. */
export function describeTarget(t: TargetSpec): string {
  switch (t.kind) {
    case "dotenv":
      return `${t.var} in ${t.path}`;
    case "json":
    case "toml":
      return `${t.key} in ${t.path}`;
    case "manual":
      return `By hand: ${t.items.join(", ")}`;
    case "github":
      return `GitHub secret ${t.secret} in ${t.environment ? `environment ${t.environment} of ` : ""}${t.repo}`;
    case "aws_secret":
      return `AWS secret ${t.secret_id} (via ${t.provider})`;
    case "ssm":
      return `SSM parameter ${t.name} (via ${t.provider})`;
    case "yaml":
      return `${t.key} in ${t.path}`;
    case "aws_credentials":
      return `AWS profile ${t.profile} in ${t.path}`;
    case "gitlab":
      return `GitLab variable ${t.variable}${t.scope ? ` (environment ${t.scope})` : ""} in project ${t.project}`;
    case "vercel":
      return `Vercel variable ${t.variable} in project ${t.project}`;
    case "netlify":
      return `Netlify variable ${t.variable} of site ${t.site}`;
  }
}
