//! The local AWS sandbox: seeds a moto server, through the real SDK, with the
//! deployments `config/sandbox.toml` describes, and keeps their logs flowing.
//!
//! Every resource of deployment `NAME` is called `NAME-…` (log groups
//! `/aws/lambda/NAME-…`, the search domain `NAME-index`), which is what the
//! selectors in `config/sandbox.toml` match. Seeding refuses any endpoint
//! that is not on this machine: it must never create things in a real account.

pub mod health;
pub mod lines;
pub mod search;
pub mod sigv4;

use std::future::Future;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use aws_sdk_opensearch::types::{ClusterConfig, OpenSearchPartitionInstanceType};
use aws_sdk_sqs::types::QueueAttributeName;
use color_eyre::eyre::{Result, WrapErr, bail, eyre};

use crate::aws::Clients;
use crate::config::Deployment;
use crate::config::deployments::is_loopback_url;

/// A Lambda function the sandbox creates: suffix, memory, timeout, reserved concurrency.
pub const FUNCTIONS: &[(&str, i32, i32, Option<i32>)] = &[
    ("api", 512, 30, None),
    ("indexer", 1024, 300, Some(10)),
    ("notifier", 256, 60, None),
    // Reserved to 0: the function the emergency stop switched off.
    ("reindexer", 1024, 900, Some(0)),
];

/// The function of each deployment that has published versions and an
/// alias, for code deploys and rollbacks (`[[deployment.function]]` in
/// config/sandbox.toml deploys new code to it).
pub const VERSIONED: &str = "api";

/// The alias `sandbox seed` points at the newest of its versions.
pub const ALIAS: &str = crate::config::deployments::DEFAULT_ALIAS;

/// The deployment the sandbox makes sick: messages in a dead-letter queue,
/// a function switched off, and ERROR lines in its recent logs. The others
/// are quiet, so the demo's first screen shows both verdicts.
pub const TROUBLED: &str = "prod";

fn troubled(env: &str) -> bool {
    env == TROUBLED
}

/// How often a deployment's generated log lines are errors.
fn errors_of(env: &str) -> lines::Errors {
    if troubled(env) {
        lines::Errors::Sometimes
    } else {
        lines::Errors::Never
    }
}

/// A queue the sandbox creates: suffix, messages to leave visible, in flight, delayed.
const QUEUES: &[(&str, usize, usize, usize)] = &[
    ("notifications", 25, 4, 2),
    ("notifications-dlq", 3, 0, 0),
    ("indexer-tasks", 120, 10, 0),
    ("indexer-tasks-dlq", 0, 0, 0),
];

/// The first version of the deployable `{env}-web` stack.
const WEB_TEMPLATE: &str = include_str!("../../config/templates/web.yaml");

/// The stacks: suffix and template. `core` holds the functions' role.
fn stacks(env: &str) -> Vec<(String, String)> {
    let role = serde_json::json!({
        "Description": format!("{env}: shared IAM role for the service functions"),
        "Parameters": { "Environment": { "Type": "String", "Default": env } },
        "Resources": {
            "LambdaRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": format!("{env}-lambda-role"),
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": { "Service": "lambda.amazonaws.com" },
                            "Action": "sts:AssumeRole"
                        }]
                    }
                }
            }
        },
        "Outputs": {
            "LambdaRoleArn": { "Value": { "Fn::GetAtt": ["LambdaRole", "Arn"] } },
            "Environment": { "Value": { "Ref": "Environment" } }
        }
    });
    let logs = serde_json::json!({
        "Description": format!("{env}: log groups of the service functions"),
        "Resources": FUNCTIONS.iter().map(|(f, ..)| {
            (
                format!("{}Logs", capitalise(f)),
                serde_json::json!({
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": {
                        "LogGroupName": format!("/aws/lambda/{env}-{f}"),
                        "RetentionInDays": if *f == "api" { 30 } else { 14 }
                    }
                }),
            )
        }).collect::<serde_json::Map<_, _>>(),
    });
    let events = serde_json::json!({
        "Description": format!("{env}: the bucket-event queue managed by CloudFormation"),
        "Resources": {
            "EventsQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": { "QueueName": format!("{env}-bucket-events") }
            }
        },
        "Outputs": { "QueueUrl": { "Value": { "Ref": "EventsQueue" } } }
    });
    vec![
        (format!("{env}-core"), role.to_string()),
        (format!("{env}-logs"), logs.to_string()),
        (format!("{env}-events"), events.to_string()),
    ]
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Creates a resource unless `exists` says it is there: seeding runs again
/// on every demo, against the same emulator.
async fn create_unless<E, C>(exists: E, create: C) -> Result<bool>
where
    E: Future<Output = bool>,
    C: Future<Output = Result<()>>,
{
    if exists.await {
        return Ok(false);
    }
    create.await?;
    Ok(true)
}

/// Refuses to touch anything but a local emulator.
pub fn check_local(d: &Deployment) -> Result<()> {
    match &d.endpoint_url {
        Some(url) if is_loopback_url(url) => Ok(()),
        Some(url) => bail!(
            "deployment `{}` points at {url}; the sandbox only seeds an emulator on this machine (127.0.0.1, localhost, ::1)",
            d.name
        ),
        None => bail!(
            "deployment `{}` has no endpoint_url; the sandbox only seeds a local emulator: pass --endpoint-url http://127.0.0.1:PORT",
            d.name
        ),
    }
}

/// Creates everything of one deployment. Safe to run twice.
pub async fn seed(d: &Deployment, out: &mut impl Write) -> Result<()> {
    check_local(d)?;
    let c = Clients::connect(d).await.map_err(|p| eyre!("{p}"))?;
    let env = d.name.as_str();
    configure_moto_lambda(d).await;

    let role_arn = seed_stacks(&c, env).await?;
    writeln!(out, "{env}: stacks ready")?;
    seed_functions(&c, env, &role_arn).await?;
    writeln!(
        out,
        "{env}: {} functions ready ({env}-{VERSIONED}: versions 1 and 2, alias {ALIAS} on 2)",
        FUNCTIONS.len()
    )?;
    seed_queues(&c, env).await?;
    writeln!(out, "{env}: {} queues ready", QUEUES.len())?;
    let groups = seed_logs(&c, env).await?;
    writeln!(out, "{env}: {groups} log groups with recent lines")?;
    seed_domain(&c, env).await?;
    writeln!(out, "{env}: search domain {env}-index ready")?;
    if let Some(dir) = &d.resources.vpn_pki {
        match seed_pki(env, dir) {
            Ok(true) => writeln!(out, "{env}: VPN certificate authority in {}", dir.display())?,
            Ok(false) => writeln!(
                out,
                "{env}: VPN certificate authority already in {}",
                dir.display()
            )?,
            // Demo sugar, not the sandbox's AWS side: say so and carry on.
            Err(e) => writeln!(out, "{env}: VPN certificate authority skipped: {e}")?,
        }
    }
    Ok(())
}

/// A small PKI to look at: a valid and a revoked certificate, a pending
/// request, and a CRL. Only where there is no PKI yet.
pub fn seed_pki(env: &str, dir: &std::path::Path) -> Result<bool> {
    use crate::pki::{CrlOptions, InitOptions, IssueOptions, Pki, RevokeTarget};
    if dir.join("ca.crt").exists() {
        return Ok(false);
    }
    crate::pki::init(
        dir,
        &InitOptions {
            cn: format!("{env} VPN CA"),
            ..InitOptions::default()
        },
    )?;
    let mut pki = Pki::open(dir)?;
    pki.issue(
        &format!("alice@{env}.example.org"),
        &IssueOptions::default(),
    )?;
    pki.issue(&format!("bob@{env}.example.org"), &IssueOptions::default())?;
    pki.revoke(&RevokeTarget::Cn(format!("bob@{env}.example.org")), None)?;
    pki.crl(&CrlOptions::default())?;
    // A developer's request waiting to be signed (their key stays with them).
    // Unique per call: tests seed PKIs for the same env in parallel.
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let scratch = std::env::temp_dir().join(format!(
        "opsdeck-sandbox-req-{}-{env}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let req = crate::pki::request(&format!("carol@{env}.example.org"), &scratch)?;
    std::fs::copy(
        &req.request_path,
        dir.join("reqs")
            .join(format!("carol@{env}.example.org.req")),
    )?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(true)
}

/// moto runs Lambda code in Docker unless told not to; we only list functions.
async fn configure_moto_lambda(d: &Deployment) {
    let Some(endpoint) = &d.endpoint_url else {
        return;
    };
    // Best effort: a plain HTTP POST on loopback; the SDK has no call for it.
    let url = format!("{}/moto-api/config", endpoint.trim_end_matches('/'));
    let body = r#"{"lambda": {"use_docker": false}}"#;
    if let Err(e) = post_json(&url, body).await {
        tracing::warn!(%url, error = %e, "could not configure moto's lambda");
    }
}

async fn post_json(url: &str, body: &str) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let parsed = url::Url::parse(url).map_err(std::io::Error::other)?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let mut s = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    let req = format!(
        "POST {} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        parsed.path(),
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await?;
    if !resp.starts_with(b"HTTP/1.1 2") && !resp.starts_with(b"HTTP/1.0 2") {
        return Err(std::io::Error::other("moto refused the config"));
    }
    Ok(())
}

async fn seed_stacks(c: &Clients, env: &str) -> Result<String> {
    let stack_exists = |name: &str| {
        let name = name.to_string();
        async move {
            c.cloudformation
                .describe_stacks()
                .stack_name(name)
                .send()
                .await
                .is_ok()
        }
    };
    for (name, template) in stacks(env) {
        create_unless(stack_exists(&name), async {
            c.cloudformation
                .create_stack()
                .stack_name(&name)
                .template_body(template)
                .capabilities(Capability::CapabilityNamedIam)
                .send()
                .await
                .wrap_err_with(|| format!("creating stack {name}"))?;
            wait_for_stack(c, &name).await
        })
        .await?;
    }
    // The deployable stack, at its first version (config/templates/web.yaml);
    // the config deploys web-changed.yaml over it.
    let web = format!("{env}-web");
    create_unless(stack_exists(&web), async {
        c.cloudformation
            .create_stack()
            .stack_name(&web)
            .template_body(WEB_TEMPLATE)
            .parameters(
                Parameter::builder()
                    .parameter_key("Stage")
                    .parameter_value(env)
                    .build(),
            )
            .send()
            .await
            .wrap_err_with(|| format!("creating stack {web}"))?;
        wait_for_stack(c, &web).await
    })
    .await?;
    // An update, so the stack list shows UPDATE_COMPLETE next to CREATE_COMPLETE.
    let core = format!("{env}-core");
    let stack = describe_stack(c, &core).await?;
    if stack.stack_status() == Some(&StackStatus::CreateComplete) {
        // A new description is a real change; an identical template is refused.
        let mut template: serde_json::Value = serde_json::from_str(&stacks(env).swap_remove(0).1)?;
        template["Description"] =
            format!("{env}: shared IAM role for the service functions (rev 2)").into();
        let template = template.to_string();
        c.cloudformation
            .update_stack()
            .stack_name(&core)
            .template_body(template)
            .capabilities(Capability::CapabilityNamedIam)
            .parameters(
                Parameter::builder()
                    .parameter_key("Environment")
                    .parameter_value(env)
                    .build(),
            )
            .send()
            .await
            .wrap_err_with(|| format!("updating stack {core}"))?;
        wait_for_stack(c, &core).await?;
    }
    describe_stack(c, &core)
        .await?
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("LambdaRoleArn"))
        .and_then(|o| o.output_value())
        .map(str::to_string)
        .ok_or_else(|| eyre!("stack {core} has no LambdaRoleArn output"))
}

async fn describe_stack(c: &Clients, name: &str) -> Result<aws_sdk_cloudformation::types::Stack> {
    let out = c
        .cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await?;
    out.stacks()
        .first()
        .cloned()
        .ok_or_else(|| eyre!("stack {name} vanished"))
}

async fn wait_for_stack(c: &Clients, name: &str) -> Result<()> {
    for _ in 0..100 {
        let stack = describe_stack(c, name).await?;
        let status = stack.stack_status().map_or("", |s| s.as_str());
        if !status.ends_with("_IN_PROGRESS") {
            if status.ends_with("_COMPLETE") && !status.contains("ROLLBACK") {
                return Ok(());
            }
            bail!("stack {name} ended in {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("stack {name} did not finish in 10 s")
}

/// A zip of one `index.py` holding `code`.
fn function_zip(code: &str) -> Result<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    zip.start_file(
        "index.py",
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )?;
    zip.write_all(code.as_bytes())?;
    zip.finish()?;
    Ok(buf.into_inner())
}

/// The code every sandbox function starts with.
const FIRST_CODE: &str = "def handler(event, context):\n    return {\"ok\": True}\n";

/// The second published version of the versioned function.
const SECOND_CODE: &str =
    "def handler(event, context):\n    return {\"ok\": True, \"version\": 2}\n";

async fn seed_functions(c: &Clients, env: &str, role_arn: &str) -> Result<()> {
    let code = function_zip(FIRST_CODE)?;
    for (suffix, memory, timeout, reserved) in FUNCTIONS {
        let name = format!("{env}-{suffix}");
        let exists = async {
            c.lambda
                .get_function()
                .function_name(&name)
                .send()
                .await
                .is_ok()
        };
        create_unless(exists, async {
            c.lambda
                .create_function()
                .function_name(&name)
                .runtime(Runtime::Python312)
                .role(role_arn)
                .handler("index.handler")
                .memory_size(*memory)
                .timeout(*timeout)
                .description(format!("{env} {suffix}"))
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(code.clone()))
                        .build(),
                )
                .send()
                .await
                .wrap_err_with(|| format!("creating function {name}"))?;
            Ok(())
        })
        .await?;
        if *suffix == VERSIONED {
            seed_versions(c, &name).await?;
        }
        // Only the troubled deployment has a function switched off.
        let reserved = match reserved {
            Some(0) if !troubled(env) => None,
            r => *r,
        };
        if let Some(n) = reserved {
            c.lambda
                .put_function_concurrency()
                .function_name(&name)
                .reserved_concurrent_executions(n)
                .send()
                .await
                .wrap_err_with(|| format!("reserving concurrency of {name}"))?;
        }
    }
    Ok(())
}

/// Two published versions (the first code, then a second) and the alias
/// on the second, so a deploy publishes version 3 and a rollback has
/// somewhere to go. Skipped once the alias exists.
async fn seed_versions(c: &Clients, name: &str) -> Result<()> {
    let exists = async {
        c.lambda
            .get_alias()
            .function_name(name)
            .name(ALIAS)
            .send()
            .await
            .is_ok()
    };
    create_unless(exists, async {
        let publish = |description: &'static str| async move {
            c.lambda
                .publish_version()
                .function_name(name)
                .description(description)
                .send()
                .await
                .wrap_err_with(|| format!("publishing a version of {name}"))
        };
        publish("sandbox seed: the first code").await?;
        c.lambda
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(function_zip(SECOND_CODE)?))
            .send()
            .await
            .wrap_err_with(|| format!("updating the code of {name}"))?;
        let second = publish("sandbox seed: the second code").await?;
        c.lambda
            .create_alias()
            .function_name(name)
            .name(ALIAS)
            .function_version(second.version().unwrap_or("2"))
            .send()
            .await
            .wrap_err_with(|| format!("creating alias {ALIAS} of {name}"))?;
        Ok(())
    })
    .await?;
    Ok(())
}

async fn seed_queues(c: &Clients, env: &str) -> Result<()> {
    // Dead-letter queues first, so their ARNs exist for the redrive policies.
    let mut ordered: Vec<_> = QUEUES.iter().collect();
    ordered.sort_by_key(|(suffix, ..)| !suffix.ends_with("-dlq"));
    for (suffix, visible, in_flight, delayed) in ordered {
        let name = format!("{env}-{suffix}");
        let mut req = c.sqs.create_queue().queue_name(&name);
        if !suffix.ends_with("-dlq") {
            let dlq_url = c
                .sqs
                .get_queue_url()
                .queue_name(format!("{name}-dlq"))
                .send()
                .await?
                .queue_url()
                .unwrap_or_default()
                .to_string();
            let dlq_arn = queue_arn(c, &dlq_url).await?;
            let policy =
                serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5 });
            req = req.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let url = req
            .send()
            .await
            .wrap_err_with(|| format!("creating queue {name}"))?
            .queue_url()
            .unwrap_or_default()
            .to_string();
        // Fill only an empty queue, so seeding twice does not double the messages.
        let attrs = c
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await?;
        let total: u64 = attrs
            .attributes()
            .map(|a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum())
            .unwrap_or(0);
        if total > 0 {
            continue;
        }
        // Only the troubled deployment has messages in a dead-letter queue.
        let visible = if suffix.ends_with("-dlq") && !troubled(env) {
            0
        } else {
            *visible
        };
        for i in 0..(visible + in_flight) {
            let body = serde_json::json!({ "kind": suffix, "seq": i, "bundle": format!("{:08x}", i * 7919) });
            c.sqs
                .send_message()
                .queue_url(&url)
                .message_body(body.to_string())
                .send()
                .await?;
        }
        for i in 0..*delayed {
            c.sqs
                .send_message()
                .queue_url(&url)
                .message_body(format!("{{\"delayed\": {i}}}"))
                .delay_seconds(900)
                .send()
                .await?;
        }
        if *in_flight > 0 {
            // Received and not deleted: in flight for the next 12 hours.
            c.sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(*in_flight as i32)
                .visibility_timeout(43_200)
                .send()
                .await?;
        }
    }
    Ok(())
}

async fn queue_arn(c: &Clients, url: &str) -> Result<String> {
    let out = c
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    out.attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| eyre!("queue {url} has no ARN"))
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn today() -> String {
    jiff::Timestamp::now().strftime("%Y/%m/%d").to_string()
}

/// Writes an hour of invocations to each function's log group.
async fn seed_logs(c: &Clients, env: &str) -> Result<usize> {
    let mut rng = fastrand::Rng::with_seed(env.len() as u64 * 7 + 1);
    let end = now_millis();
    let start = end - 3_600_000;
    for (suffix, ..) in FUNCTIONS {
        let group = format!("/aws/lambda/{env}-{suffix}");
        let stream = lines::stream_name(&mut rng, &today());
        ensure_stream(c, &group, &stream).await?;
        let invocations = 40;
        let mut events = Vec::new();
        for i in 0..invocations {
            let t = start + (end - start) * i / invocations;
            for (j, line) in
                lines::invocation_with(&mut rng, &format!("{env}-{suffix}"), errors_of(env))
                    .into_iter()
                    .enumerate()
            {
                events.push(
                    InputLogEvent::builder()
                        .timestamp(t + j as i64)
                        .message(line)
                        .build()?,
                );
            }
        }
        if troubled(env) {
            // A failed invocation a minute ago: errors in the last 15 minutes, always.
            let t = end - 60_000;
            for (j, line) in
                lines::invocation_with(&mut rng, &format!("{env}-{suffix}"), lines::Errors::Always)
                    .into_iter()
                    .enumerate()
            {
                events.push(
                    InputLogEvent::builder()
                        .timestamp(t + j as i64)
                        .message(line)
                        .build()?,
                );
            }
            events.sort_by_key(|e| e.timestamp);
        }
        c.logs
            .put_log_events()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .set_log_events(Some(events))
            .send()
            .await
            .wrap_err_with(|| format!("writing to {group}"))?;
    }
    Ok(FUNCTIONS.len())
}

async fn ensure_stream(c: &Clients, group: &str, stream: &str) -> Result<()> {
    use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
    use aws_sdk_cloudwatchlogs::operation::create_log_stream::CreateLogStreamError;
    // Creating what exists already is fine: seeding runs again on every demo.
    let group_created = c.logs.create_log_group().log_group_name(group).send().await;
    if let Err(e) = group_created
        && !matches!(
            e.as_service_error(),
            Some(CreateLogGroupError::ResourceAlreadyExistsException(_))
        )
    {
        return Err(e).wrap_err_with(|| format!("creating log group {group}"));
    }
    let stream_created = c
        .logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    if let Err(e) = stream_created
        && !matches!(
            e.as_service_error(),
            Some(CreateLogStreamError::ResourceAlreadyExistsException(_))
        )
    {
        return Err(e).wrap_err_with(|| format!("creating log stream {group} {stream}"));
    }
    Ok(())
}

async fn seed_domain(c: &Clients, env: &str) -> Result<()> {
    let name = format!("{env}-index");
    let exists = async {
        c.opensearch
            .describe_domain()
            .domain_name(&name)
            .send()
            .await
            .is_ok()
    };
    create_unless(exists, async {
        c.opensearch
            .create_domain()
            .domain_name(&name)
            .engine_version("OpenSearch_2.11")
            .cluster_config(
                ClusterConfig::builder()
                    .instance_type(OpenSearchPartitionInstanceType::R6gLargeSearch)
                    .instance_count(if env == "prod" { 3 } else { 2 })
                    .build(),
            )
            .send()
            .await
            .wrap_err_with(|| format!("creating search domain {name}"))?;
        Ok(())
    })
    .await?;
    Ok(())
}

/// Starts the data plane of every loopback `opensearch_url` of the
/// deployments: one server per address, one cluster per deployment (by its
/// region), `prod` yellow with unassigned replicas.
pub async fn serve_search(
    deployments: &[Deployment],
) -> Result<Vec<(String, search::SearchServer)>> {
    let mut by_url: std::collections::BTreeMap<String, Vec<search::Cluster>> = Default::default();
    for d in deployments {
        let Some(url) = d
            .resources
            .opensearch_url
            .as_deref()
            .filter(|u| is_loopback_url(u))
        else {
            continue;
        };
        let region = d.region.clone().unwrap_or_else(|| "us-east-1".into());
        let clusters = by_url.entry(url.to_string()).or_default();
        if clusters.iter().any(|c| c.region == region) {
            bail!(
                "deployments sharing the sandbox data plane {url} must be in different regions: two are in {region}"
            );
        }
        clusters.push(search::Cluster::sandbox(
            &d.name,
            &region,
            troubled(&d.name),
        ));
    }
    let mut servers = Vec::new();
    for (url, clusters) in by_url {
        let parsed = url::Url::parse(&url).wrap_err_with(|| format!("opensearch_url {url}"))?;
        let port = parsed.port_or_known_default().unwrap_or(80);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let server = search::SearchServer::start(addr, clusters)
            .await
            .wrap_err_with(|| format!("starting the sandbox's OpenSearch data plane on {url}"))?;
        servers.push((url, server));
    }
    Ok(servers)
}

/// Starts the health and version endpoints of every loopback `health_urls`
/// address of the deployments: one server per port, a path prefix per
/// deployment, each reporting its web stack's version as the emulator has it.
pub async fn serve_health(
    deployments: &[Deployment],
) -> Result<Vec<(String, health::HealthServer)>> {
    let mut by_port: std::collections::BTreeMap<u16, Vec<&Deployment>> = Default::default();
    for d in deployments {
        for url in d
            .resources
            .health_urls
            .iter()
            .filter(|u| is_loopback_url(u))
        {
            let parsed = url::Url::parse(url).wrap_err_with(|| format!("health URL {url}"))?;
            let port = parsed.port_or_known_default().unwrap_or(80);
            let on_port = by_port.entry(port).or_default();
            if !on_port.iter().any(|o| o.name == d.name) {
                on_port.push(d);
            }
        }
    }
    let mut servers = Vec::new();
    for (port, ds) in by_port {
        let names: Vec<&str> = ds.iter().map(|d| d.name.as_str()).collect();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let server = health::HealthServer::start(addr, &names)
            .await
            .wrap_err_with(|| format!("starting the sandbox's health endpoints on port {port}"))?;
        for d in ds {
            check_local(d)?;
            let c = Clients::connect(d).await.map_err(|p| eyre!("{p}"))?;
            server.read_versions(&d.name, c);
        }
        servers.push((server.endpoint.clone(), server));
    }
    Ok(servers)
}

/// Appends invocations to the deployments' log groups at `rate` lines per
/// second (roughly) until stopped.
pub async fn follow(deployments: &[Deployment], rate: f64) -> Result<()> {
    let mut targets = Vec::new();
    for d in deployments {
        check_local(d)?;
        let c = Clients::connect(d).await.map_err(|p| eyre!("{p}"))?;
        let mut rng = fastrand::Rng::new();
        for (suffix, ..) in FUNCTIONS {
            let group = format!("/aws/lambda/{}-{suffix}", d.name);
            let stream = lines::stream_name(&mut rng, &today());
            ensure_stream(&c, &group, &stream).await?;
            targets.push((c.clone(), d.name.clone(), suffix.to_string(), group, stream));
        }
    }
    if targets.is_empty() {
        bail!("no deployment to write logs for");
    }
    let mut rng = fastrand::Rng::new();
    // An invocation averages ~5 lines.
    let period = Duration::from_secs_f64(5.0 / rate.max(0.1));
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        let (c, env, suffix, group, stream) = &targets[rng.usize(..targets.len())];
        let t = now_millis();
        let events: Result<Vec<_>, _> =
            lines::invocation_with(&mut rng, &format!("{env}-{suffix}"), errors_of(env))
                .into_iter()
                .enumerate()
                .map(|(j, line)| {
                    InputLogEvent::builder()
                        .timestamp(t + j as i64)
                        .message(line)
                        .build()
                })
                .collect();
        let sent = c
            .logs
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events?))
            .send()
            .await;
        if let Err(e) = sent {
            // The emulator may restart under us; keep going, loudly.
            eprintln!("{group}: {}", c.ctx.problem("PutLogEvents", &e));
        }
    }
}
