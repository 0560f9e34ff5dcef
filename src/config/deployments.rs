//! The deployments file: schema, defaults and the checks serde cannot do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::Diagnostic;

/// Refresh panels this often unless the config says otherwise.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(30);

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub path: Option<PathBuf>,
    pub theme: String,
    pub keymap: String,
    /// `None`: panels refresh only when asked.
    pub refresh_interval: Option<Duration>,
    /// Lines a log tail keeps before dropping the oldest.
    pub log_buffer_lines: usize,
    pub deployments: Vec<Deployment>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            theme: "default".into(),
            keymap: "default".into(),
            refresh_interval: Some(DEFAULT_REFRESH),
            log_buffer_lines: crate::logs::LogStore::DEFAULT_CAP,
            deployments: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub name: String,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub protected: bool,
    pub read_only: bool,
    /// Use fixed dummy credentials (only with a loopback endpoint).
    pub sandbox_credentials: bool,
    pub resources: Resources,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resources {
    pub stacks: Option<Selector>,
    pub lambdas: Option<Selector>,
    pub queues: Option<Selector>,
    pub log_groups: Option<Selector>,
    pub opensearch_domain: Option<String>,
    /// The domain's data plane at another address than DescribeDomain's
    /// endpoint: a tunnel or VPN into its VPC, or a proxy. `--endpoint-url`
    /// does not change it; `--opensearch-url` does.
    pub opensearch_url: Option<String>,
    /// The indices `index create|delete|reindex` manage, by the alias they are reached by.
    pub indices: Vec<IndexDefinition>,
    /// How `index reindex` rebuilds them.
    pub reindex: Option<ReindexStrategy>,
    /// Fetched after every deploy and on the health key (`opsdeck health`).
    pub health_urls: Vec<String>,
    /// How long one health URL may take, connect and answer (`None`: the default).
    pub health_timeout: Option<Duration>,
    /// The AWS Client VPN endpoint (`cvpn-endpoint-…`) that `opsdeck vpn publish` targets.
    pub vpn_endpoint: Option<String>,
    /// The VPN PKI folder of this deployment (used when `--pki` is not given).
    pub vpn_pki: Option<PathBuf>,
    /// The stacks this deployment can deploy, each with its template source.
    pub deploy_stacks: Vec<StackSource>,
    /// Deploys that run a command (`make deploy`, `cdk deploy`, Terraform).
    pub deploy_commands: Vec<CommandDeploy>,
    /// Functions whose code this deployment deploys from a zip.
    pub deploy_functions: Vec<FunctionDeploy>,
}

/// The alias a function's deploy moves, and its rollback moves back, unless
/// the config names another.
pub const DEFAULT_ALIAS: &str = "ACTIVE";

/// How new code of one function is deployed (`[[deployment.function]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDeploy {
    /// The function's name.
    pub name: String,
    /// The zip to upload (relative to where opsdeck runs, like templates).
    pub zip: PathBuf,
    /// A shell command (`sh -c`) that produces `zip`, run first in the deploy job.
    pub build: Option<String>,
    /// The alias the deploy moves to the new version (default [`DEFAULT_ALIAS`]).
    pub alias: String,
}

/// A deploy that runs a command (`[[deployment.command]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandDeploy {
    /// What `opsdeck deploy NAME` calls it.
    pub name: String,
    /// A shell command line (`sh -c`).
    pub run: String,
    /// Where it runs (relative to where opsdeck runs); `None`: there.
    pub workdir: Option<PathBuf>,
    /// More environment, beside AWS_PROFILE, AWS_REGION and OPSDECK_DEPLOYMENT.
    pub env: std::collections::BTreeMap<String, String>,
}

/// How one stack is deployed (`[[deployment.stack]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSource {
    pub name: String,
    pub template: TemplateSource,
    /// Parameter values, by key (sorted, so plans and audit lines are stable).
    pub parameters: std::collections::BTreeMap<String, String>,
    /// `CAPABILITY_IAM`, `CAPABILITY_NAMED_IAM`, `CAPABILITY_AUTO_EXPAND`.
    pub capabilities: Vec<String>,
}

/// Where a stack's template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// A file, relative to where opsdeck runs.
    File(PathBuf),
    /// A shell command whose stdout is the template (`cdk synth -q Stack`).
    Command(String),
}

/// The capabilities CloudFormation knows.
pub const CAPABILITIES: &[&str] = &[
    "CAPABILITY_IAM",
    "CAPABILITY_NAMED_IAM",
    "CAPABILITY_AUTO_EXPAND",
];

impl Deployment {
    /// The configured code deploy of a function, if any.
    pub fn function_deploy(&self, function: &str) -> Option<&FunctionDeploy> {
        self.resources
            .deploy_functions
            .iter()
            .find(|f| f.name == function)
    }

    /// The configured deploy of a stack, if any.
    pub fn stack_source(&self, stack: &str) -> Option<&StackSource> {
        self.resources
            .deploy_stacks
            .iter()
            .find(|s| s.name == stack)
    }

    pub fn command_deploy(&self, name: &str) -> Option<&CommandDeploy> {
        self.resources
            .deploy_commands
            .iter()
            .find(|c| c.name == name)
    }
}

/// An index as the deployment defines it (Azul's `make create`): the alias
/// clients use, and the file with its settings and mappings (the body of
/// `PUT /INDEX`; a path relative to where opsdeck runs, like `vpn_pki`).
/// The index itself is `NAME-YYYYMMDD-HHMMSS`, behind the alias `NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDefinition {
    pub name: String,
    pub definition: PathBuf,
}

/// How a reindex is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReindexStrategy {
    /// In OpenSearch: a new index from the definition, `_reindex` from the
    /// old one as a task, the alias swapped when it succeeds.
    OpenSearch {
        /// Delete the old index once the alias points at the new one.
        delete_old: bool,
    },
    /// Azul's way: invoke a function that queues the work; the job watches
    /// the notification queue drain and the indices' doc counts grow.
    Lambda {
        function: String,
        /// The invoke's payload (JSON, checked when the config loads).
        payload: String,
        /// The queue whose depth is the work still to do.
        queue: String,
        /// Done once the queue stayed empty this long.
        quiet_period: Duration,
        /// Given up (and said so) after this long.
        timeout: Duration,
    },
}

/// Which resources of a kind belong to a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Prefix(String),
    Names(Vec<String>),
}

impl Selector {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Selector::Prefix(p) => name.starts_with(p.as_str()),
            Selector::Names(names) => names.iter().any(|n| n == name),
        }
    }

    /// The prefix to hand to a List call, when the API can narrow by one.
    pub fn prefix(&self) -> Option<&str> {
        match self {
            Selector::Prefix(p) => Some(p),
            Selector::Names(_) => None,
        }
    }
}

/// Whether a selector is configured and matches: an unconfigured kind shows everything.
pub fn selected(selector: Option<&Selector>, name: &str) -> bool {
    selector.is_none_or(|s| s.matches(name))
}

impl Deployment {
    /// Points the deployment at another endpoint (`--endpoint-url`).
    pub fn override_endpoint(&mut self, url: &str) -> Result<(), String> {
        if self.sandbox_credentials && !is_loopback_url(url) {
            return Err(format!(
                "deployment `{}` uses sandbox_credentials, which only work with a loopback endpoint, not {url}",
                self.name
            ));
        }
        self.endpoint_url = Some(url.to_string());
        Ok(())
    }
}

/// Lambda's rule for alias names: 1 to 128 of `[a-zA-Z0-9-_]`, not digits only
/// (those name versions).
pub fn is_alias_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit())
}

/// True for `http(s)://127.x.x.x`, `localhost` and `[::1]` URLs.
pub fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

// ---- the file as written -------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<Spanned<String>>,
    keymap: Option<Spanned<String>>,
    refresh_interval_secs: Option<Spanned<u64>>,
    log_buffer_lines: Option<Spanned<u64>>,
    #[serde(default, rename = "deployment")]
    deployments: Vec<RawDeployment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeployment {
    name: Spanned<String>,
    profile: Option<String>,
    region: Option<Spanned<String>>,
    endpoint_url: Option<Spanned<String>>,
    #[serde(default)]
    protected: bool,
    #[serde(default)]
    read_only: bool,
    sandbox_credentials: Option<Spanned<bool>>,
    #[serde(default)]
    resources: RawResources,
    /// `[[deployment.stack]]`: stacks to deploy.
    #[serde(default)]
    stack: Vec<Spanned<RawStack>>,
    /// `[[deployment.command]]`: deploys that run a command.
    #[serde(default)]
    command: Vec<Spanned<RawCommand>>,
    /// `[[deployment.function]]`: functions whose code is deployed from a zip.
    #[serde(default)]
    function: Vec<RawFunction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunction {
    name: Spanned<String>,
    zip: Spanned<PathBuf>,
    build: Option<Spanned<String>>,
    alias: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    name: String,
    run: String,
    workdir: Option<PathBuf>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStack {
    name: String,
    template: Option<PathBuf>,
    template_command: Option<String>,
    #[serde(default)]
    parameters: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    capabilities: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawResources {
    stacks: Option<Spanned<RawSelector>>,
    lambdas: Option<Spanned<RawSelector>>,
    queues: Option<Spanned<RawSelector>>,
    log_groups: Option<Spanned<RawSelector>>,
    opensearch_domain: Option<String>,
    opensearch_url: Option<Spanned<String>>,
    #[serde(default)]
    indices: Vec<RawIndexDefinition>,
    reindex: Option<Spanned<RawReindex>>,
    #[serde(default)]
    health_urls: Vec<Spanned<String>>,
    health_timeout_secs: Option<Spanned<u64>>,
    vpn_endpoint: Option<String>,
    vpn_pki: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndexDefinition {
    name: String,
    definition: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReindex {
    strategy: Spanned<String>,
    delete_old: Option<bool>,
    function: Option<String>,
    payload: Option<Spanned<String>>,
    queue: Option<String>,
    quiet_period_secs: Option<u64>,
    timeout_secs: Option<u64>,
}

/// The lambda strategy's defaults: a minute without messages, an hour in all.
pub const QUIET_PERIOD: Duration = Duration::from_secs(60);
pub const REINDEX_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelector {
    prefix: Option<String>,
    names: Option<Vec<String>>,
}

struct Checker<'a> {
    source: &'a str,
    path: &'a Path,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error<T>(&mut self, at: &Spanned<T>, message: String, help: impl Into<String>) {
        self.diagnostics.push(
            Diagnostic::error(self.path, message)
                .at(self.source, Some(at.span()))
                .help(help),
        );
    }

    fn selector(&mut self, raw: Option<Spanned<RawSelector>>, what: &str) -> Option<Selector> {
        let raw = raw?;
        let span = raw.span();
        let RawSelector { prefix, names } = raw.into_inner();
        let at = Spanned::new(span, ());
        match (prefix, names) {
            (Some(p), None) => Some(Selector::Prefix(p)),
            (None, Some(n)) => Some(Selector::Names(n)),
            (Some(_), Some(_)) => {
                self.error(
                    &at,
                    format!("`{what}` has both `prefix` and `names`"),
                    "keep one: { prefix = \"...\" } or { names = [\"...\"] }",
                );
                None
            }
            (None, None) => {
                self.error(
                    &at,
                    format!("`{what}` selects nothing"),
                    "write { prefix = \"...\" } or { names = [\"...\"] }",
                );
                None
            }
        }
    }

    fn deployment(&mut self, raw: RawDeployment) -> Deployment {
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            self.error(
                &raw.name,
                "a deployment's name is empty".into(),
                "give it a short name such as \"dev\"",
            );
        }
        if let Some(region) = &raw.region {
            let r = region.get_ref();
            let plausible = !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !plausible {
                self.error(
                    region,
                    format!("`{r}` is not an AWS region name"),
                    "write a region such as \"us-east-1\"",
                );
            }
        }
        if let Some(url) = &raw.endpoint_url {
            match url::Url::parse(url.get_ref()) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                _ => self.error(
                    url,
                    format!("`{}` is not an http(s) URL", url.get_ref()),
                    "write it like \"http://127.0.0.1:5000\"",
                ),
            }
        }
        let sandbox = raw
            .sandbox_credentials
            .as_ref()
            .is_some_and(|s| *s.get_ref());
        if let Some(flag) = raw.sandbox_credentials.as_ref().filter(|s| *s.get_ref()) {
            let loopback = raw
                .endpoint_url
                .as_ref()
                .is_some_and(|u| is_loopback_url(u.get_ref()));
            if !loopback {
                self.error(
                    flag,
                    "sandbox_credentials needs a loopback endpoint_url".into(),
                    "set endpoint_url = \"http://127.0.0.1:PORT\", or remove sandbox_credentials to use real credentials",
                );
            }
        }
        let r = raw.resources;
        for url in &r.health_urls {
            match url::Url::parse(url.get_ref()) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                Ok(u) => self.error(
                    url,
                    format!(
                        "`{}` is a {} URL; a health check fetches http or https",
                        url.get_ref(),
                        u.scheme()
                    ),
                    "write a full URL such as \"https://service.example.org/health\"",
                ),
                Err(_) => self.error(
                    url,
                    format!("`{}` is not a URL", url.get_ref()),
                    "write a full URL such as \"https://service.example.org/health\"",
                ),
            }
        }
        if let Some(t) = &r.health_timeout_secs
            && !(1..=300).contains(t.get_ref())
        {
            self.error(
                t,
                format!("health_timeout_secs = {} is out of range", t.get_ref()),
                "give each health URL between 1 and 300 seconds",
            );
        }
        if let Some(url) = &r.opensearch_url {
            match url::Url::parse(url.get_ref()) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                _ => self.error(
                    url,
                    format!("opensearch_url `{}` is not an http(s) URL", url.get_ref()),
                    "write it like \"https://localhost:9200\" (a tunnel to the domain)",
                ),
            }
        }
        let reindex = r.reindex.and_then(|raw| self.reindex(raw));
        let mut deploy_stacks: Vec<StackSource> = Vec::new();
        for raw in raw.stack {
            let at = Spanned::new(raw.span(), ());
            let RawStack {
                name,
                template,
                template_command,
                parameters,
                capabilities,
            } = raw.into_inner();
            let template = match (template, template_command) {
                (Some(f), None) => TemplateSource::File(f),
                (None, Some(c)) if !c.trim().is_empty() => TemplateSource::Command(c),
                (Some(_), Some(_)) => {
                    self.error(
                        &at,
                        format!("stack `{name}` has both `template` and `template_command`"),
                        "keep one: a template file, or a command whose stdout is the template",
                    );
                    continue;
                }
                (None, _) => {
                    self.error(
                        &at,
                        format!("stack `{name}` has no template"),
                        "add template = \"path/to/template.yaml\" or template_command = \"cdk synth -q Stack\"",
                    );
                    continue;
                }
            };
            if let Some(bad) = capabilities
                .iter()
                .find(|c| !CAPABILITIES.contains(&c.as_str()))
            {
                self.error(
                    &at,
                    format!("stack `{name}`: `{bad}` is not a CloudFormation capability"),
                    format!("choose from {}", CAPABILITIES.join(", ")),
                );
                continue;
            }
            if deploy_stacks.iter().any(|s| s.name == name) {
                self.error(
                    &at,
                    format!("stack `{name}` is configured twice"),
                    "keep one [[deployment.stack]] table per stack",
                );
                continue;
            }
            deploy_stacks.push(StackSource {
                name,
                template,
                parameters,
                capabilities,
            });
        }
        let mut deploy_commands: Vec<CommandDeploy> = Vec::new();
        for raw in raw.command {
            let at = Spanned::new(raw.span(), ());
            let RawCommand {
                name,
                run,
                workdir,
                env,
            } = raw.into_inner();
            if run.trim().is_empty() {
                self.error(
                    &at,
                    format!("command deploy `{name}` runs nothing"),
                    "write run = \"make deploy\"",
                );
                continue;
            }
            if deploy_commands.iter().any(|c| c.name == name) {
                self.error(
                    &at,
                    format!("command deploy `{name}` is configured twice"),
                    "keep one [[deployment.command]] table per name",
                );
                continue;
            }
            deploy_commands.push(CommandDeploy {
                name,
                run,
                workdir,
                env,
            });
        }
        let deploy_functions = self.functions(raw.function);
        let resources = Resources {
            stacks: self.selector(r.stacks, "stacks"),
            lambdas: self.selector(r.lambdas, "lambdas"),
            queues: self.selector(r.queues, "queues"),
            log_groups: self.selector(r.log_groups, "log_groups"),
            opensearch_domain: r.opensearch_domain,
            opensearch_url: r.opensearch_url.map(Spanned::into_inner),
            indices: r
                .indices
                .into_iter()
                .map(|i| IndexDefinition {
                    name: i.name,
                    definition: i.definition,
                })
                .collect(),
            reindex,
            health_urls: r.health_urls.into_iter().map(Spanned::into_inner).collect(),
            health_timeout: r
                .health_timeout_secs
                .map(|t| Duration::from_secs(*t.get_ref())),
            vpn_endpoint: r.vpn_endpoint,
            vpn_pki: r.vpn_pki,
            deploy_stacks,
            deploy_commands,
            deploy_functions,
        };
        Deployment {
            name,
            profile: raw.profile,
            region: raw.region.map(Spanned::into_inner),
            endpoint_url: raw.endpoint_url.map(Spanned::into_inner),
            protected: raw.protected,
            read_only: raw.read_only,
            sandbox_credentials: sandbox,
            resources,
        }
    }

    /// The `[[deployment.function]]` tables; a broken one is left out.
    fn functions(&mut self, raw: Vec<RawFunction>) -> Vec<FunctionDeploy> {
        let mut functions: Vec<FunctionDeploy> = Vec::new();
        for raw in raw {
            let RawFunction {
                name,
                zip,
                build,
                alias,
            } = raw;
            let function = name.get_ref().trim();
            if function.is_empty() {
                self.error(
                    &name,
                    "a function deploy's name is empty".into(),
                    "write the function's name, e.g. name = \"dev-api\"",
                );
                continue;
            }
            if zip.get_ref().as_os_str().is_empty() {
                self.error(
                    &zip,
                    format!("function `{function}`: zip is empty"),
                    "write the path of the zip to upload, e.g. zip = \"build/api.zip\"",
                );
                continue;
            }
            if let Some(b) = build.as_ref().filter(|b| b.get_ref().trim().is_empty()) {
                self.error(
                    b,
                    format!("function `{function}`: build runs nothing"),
                    "write the command that produces the zip, e.g. build = \"make api.zip\", or leave build out",
                );
                continue;
            }
            let alias = match alias {
                None => DEFAULT_ALIAS.to_string(),
                Some(a) if is_alias_name(a.get_ref()) => a.into_inner(),
                Some(a) => {
                    self.error(
                        &a,
                        format!("function `{function}`: `{}` is not a Lambda alias name", a.get_ref()),
                        "an alias is 1 to 128 letters, digits, `-` or `_`, and not a number only (e.g. \"ACTIVE\")",
                    );
                    continue;
                }
            };
            if functions.iter().any(|f| f.name == function) {
                self.error(
                    &name,
                    format!("function `{function}` is configured twice"),
                    "keep one [[deployment.function]] table per function",
                );
                continue;
            }
            functions.push(FunctionDeploy {
                name: function.to_string(),
                zip: zip.into_inner(),
                build: build.map(Spanned::into_inner),
                alias,
            });
        }
        functions
    }

    fn reindex(&mut self, raw: Spanned<RawReindex>) -> Option<ReindexStrategy> {
        let at = Spanned::new(raw.span(), ());
        let raw = raw.into_inner();
        match raw.strategy.get_ref().as_str() {
            "opensearch" => Some(ReindexStrategy::OpenSearch {
                delete_old: raw.delete_old.unwrap_or(false),
            }),
            "lambda" => {
                let (Some(function), Some(queue)) = (raw.function, raw.queue) else {
                    self.error(
                        &at,
                        "the lambda reindex strategy needs `function` and `queue`".into(),
                        "name the function to invoke and the notification queue it fills",
                    );
                    return None;
                };
                let payload = match raw.payload {
                    None => "{}".to_string(),
                    Some(p) => match serde_json::from_str::<serde_json::Value>(p.get_ref()) {
                        Ok(_) => p.into_inner(),
                        Err(e) => {
                            self.error(
                                &p,
                                format!("the reindex payload is not JSON: {e}"),
                                "write it as a TOML string holding JSON, e.g. payload = '{\"action\": \"reindex\"}'",
                            );
                            return None;
                        }
                    },
                };
                if raw.quiet_period_secs == Some(0) {
                    self.error(
                        &at,
                        "quiet_period_secs = 0 would end the reindex at once".into(),
                        "choose how long the queue must stay empty, e.g. 60",
                    );
                    return None;
                }
                Some(ReindexStrategy::Lambda {
                    function,
                    payload,
                    queue,
                    quiet_period: raw
                        .quiet_period_secs
                        .map_or(QUIET_PERIOD, Duration::from_secs),
                    timeout: raw
                        .timeout_secs
                        .map_or(REINDEX_TIMEOUT, Duration::from_secs),
                })
            }
            other => {
                self.error(
                    &raw.strategy,
                    format!("unknown reindex strategy `{other}`"),
                    "write strategy = \"opensearch\" or strategy = \"lambda\"",
                );
                None
            }
        }
    }

    fn named(&mut self, value: Option<Spanned<String>>, known: &[&str], what: &str) -> String {
        let Some(value) = value else {
            return "default".into();
        };
        if known.contains(&value.get_ref().as_str()) {
            return value.into_inner();
        }
        let help = match super::nearest(value.get_ref(), known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? built-in {what}s: {}", known.join(", ")),
            None => format!("built-in {what}s: {}", known.join(", ")),
        };
        self.error(
            &value,
            format!("unknown {what} `{}`", value.get_ref()),
            help,
        );
        "default".into()
    }
}

impl Config {
    /// Parses and checks a config file's text. Returns the usable part of the
    /// config (defaults where it was broken) and every problem found.
    pub fn parse(source: &str, path: &Path) -> (Config, Vec<Diagnostic>) {
        let (raw, diagnostics) = match super::deserialize_all::<RawConfig>(source, path) {
            (Some(raw), diags) => (raw, diags),
            (None, diags) => {
                let config = Config {
                    path: Some(path.to_path_buf()),
                    ..Config::default()
                };
                return (config, diags);
            }
        };
        let mut check = Checker {
            source,
            path,
            diagnostics,
        };
        let theme = check.named(raw.theme, super::theme::BUILTIN_NAMES, "theme");
        let keymap = check.named(raw.keymap, super::keymap::BUILTIN_NAMES, "keymap");
        let refresh_interval = match raw.refresh_interval_secs.map(Spanned::into_inner) {
            None => Some(DEFAULT_REFRESH),
            Some(0) => None,
            Some(secs) => Some(Duration::from_secs(secs)),
        };
        let log_buffer_lines = match raw.log_buffer_lines {
            None => crate::logs::LogStore::DEFAULT_CAP,
            Some(n) if (1_000..=50_000_000).contains(n.get_ref()) => *n.get_ref() as usize,
            Some(n) => {
                check.error(
                    &n,
                    format!("log_buffer_lines = {} is out of range", n.get_ref()),
                    "choose between 1000 and 50000000 (the default is 200000)",
                );
                crate::logs::LogStore::DEFAULT_CAP
            }
        };
        let mut first_seen: HashMap<String, usize> = HashMap::new();
        let mut deployments = Vec::new();
        for raw in raw.deployments {
            let name_span = raw.name.clone();
            let d = check.deployment(raw);
            let (line, _) = super::line_column(source, name_span.span().start);
            if let Some(first) = first_seen.get(&d.name) {
                check.error(
                    &name_span,
                    format!("deployment `{}` is defined twice", d.name),
                    format!("the first definition is on line {first}; rename or remove one"),
                );
                continue;
            }
            first_seen.insert(d.name.clone(), line);
            deployments.push(d);
        }
        if deployments.is_empty() && check.diagnostics.is_empty() {
            check.diagnostics.push(
                Diagnostic::warning(path, "no deployments are defined")
                    .help("add a [[deployment]] table; see config/example.toml"),
            );
        }
        let config = Config {
            path: Some(path.to_path_buf()),
            theme,
            keymap,
            refresh_interval,
            log_buffer_lines,
            deployments,
        };
        (config, check.diagnostics)
    }

    pub fn deployment(&self, name: &str) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> (Config, Vec<Diagnostic>) {
        Config::parse(src, Path::new("c.toml"))
    }

    #[test]
    fn the_minimal_shape_from_the_issue_parses() {
        let (config, diags) = parse(
            r#"
[[deployment]]
name = "dev"
profile = "azul-dev"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:5000"
protected = false
read_only = false
[deployment.resources]
stacks = { prefix = "azul-dev" }
lambdas = { names = ["azul-indexer-dev"] }
queues = { prefix = "azul-" }
log_groups = { prefix = "/aws/lambda/azul-" }
opensearch_domain = "azul-index-dev"
"#,
        );
        assert_eq!(diags, vec![]);
        let d = &config.deployments[0];
        assert_eq!(d.name, "dev");
        assert_eq!(d.profile.as_deref(), Some("azul-dev"));
        assert_eq!(
            d.resources.lambdas,
            Some(Selector::Names(vec!["azul-indexer-dev".into()]))
        );
        assert_eq!(
            d.resources.opensearch_domain.as_deref(),
            Some("azul-index-dev")
        );
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_url("http://127.0.0.1:5000"));
        assert!(is_loopback_url("http://localhost:1"));
        assert!(is_loopback_url("http://[::1]:1"));
        assert!(!is_loopback_url("http://10.0.0.1:5000"));
        assert!(!is_loopback_url("https://sqs.us-east-1.amazonaws.com"));
    }

    #[test]
    fn overriding_a_sandbox_deployment_with_a_remote_endpoint_is_refused() {
        let (config, _) = parse(
            r#"
[[deployment]]
name = "dev"
endpoint_url = "http://127.0.0.1:5000"
sandbox_credentials = true
"#,
        );
        let mut d = config.deployments[0].clone();
        assert!(d.override_endpoint("http://127.0.0.1:6000").is_ok());
        assert!(d.override_endpoint("https://example.com").is_err());
    }

    #[test]
    fn a_zero_interval_turns_auto_refresh_off() {
        let (config, _) = parse("refresh_interval_secs = 0\n[[deployment]]\nname = \"x\"\n");
        assert_eq!(config.refresh_interval, None);
    }
}
