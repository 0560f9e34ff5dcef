//! What moto cannot show of a stack deploy: it executes change sets
//! synchronously (no live event stream), its changes carry no
//! `Replacement`, and it has no CancelUpdateStack. These tests replay
//! CloudFormation's documented query-protocol (XML) responses through the
//! real SDK with `StaticReplayClient`, and check the requests the job sent.
//! The follow polls every 2 s for real, so each test takes a few seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use opsdeck::aws::Clients;
use opsdeck::config::{StackSource, TemplateSource};
use opsdeck::jobs::stacks::{ChangeSetPreview, ResourceChange};
use opsdeck::jobs::{self, AuditLog, Ctx, Detail, JobUpdate, Outcome, Plan, Source};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/dev-web/1a2b3c4d-0000-0000-0000-000000000000";

fn xml(op: &str, result: &str) -> ReplayEvent {
    let body = format!(
        r#"<{op}Response xmlns="{NS}"><{op}Result>{result}</{op}Result><ResponseMetadata><RequestId>replay</RequestId></ResponseMetadata></{op}Response>"#
    );
    let mut r = HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from(body));
    r.headers_mut().insert("content-type", "text/xml");
    ReplayEvent::new(HttpRequest::new(SdkBody::empty()), r)
}

fn stack(status: &str) -> ReplayEvent {
    xml(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackName>dev-web</StackName><StackId>{STACK_ID}</StackId><CreationTime>2026-12-01T09:00:00Z</CreationTime><StackStatus>{status}</StackStatus><Parameters><member><ParameterKey>Version</ParameterKey><ParameterValue>1</ParameterValue></member></Parameters></member></Stacks>"
        ),
    )
}

/// One stack event: (id, logical id, type, status, reason).
type Ev<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// DescribeStackEvents: newest first, as CloudFormation sends them.
fn events(newest_first: &[Ev]) -> ReplayEvent {
    events_page(newest_first, 50, None)
}

/// One page of DescribeStackEvents, the newest at second `newest` of the
/// minute, with the token of the next page when there is one.
fn events_page(newest_first: &[Ev], newest: usize, next: Option<&str>) -> ReplayEvent {
    let members: String = newest_first
        .iter()
        .enumerate()
        .map(|(i, (id, logical, kind, status, reason))| {
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!("<ResourceStatusReason>{reason}</ResourceStatusReason>")
            };
            format!(
                "<member><EventId>{id}</EventId><StackName>dev-web</StackName><StackId>{STACK_ID}</StackId><LogicalResourceId>{logical}</LogicalResourceId><ResourceType>{kind}</ResourceType><Timestamp>2026-12-02T10:00:{:02}Z</Timestamp><ResourceStatus>{status}</ResourceStatus>{reason}</member>",
                newest - i
            )
        })
        .collect();
    let next = next
        .map(|t| format!("<NextToken>{t}</NextToken>"))
        .unwrap_or_default();
    xml(
        "DescribeStackEvents",
        &format!("<StackEvents>{members}</StackEvents>{next}"),
    )
}

const OLD: Ev = (
    "old-1",
    "dev-web",
    "AWS::CloudFormation::Stack",
    "CREATE_COMPLETE",
    "",
);

fn available() -> ReplayEvent {
    xml(
        "DescribeChangeSet",
        "<ChangeSetName>opsdeck-1</ChangeSetName><StackName>dev-web</StackName><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus>",
    )
}

fn executed() -> ReplayEvent {
    xml("ExecuteChangeSet", "")
}

fn clients(events: Vec<ReplayEvent>) -> (Clients, StaticReplayClient) {
    let http = StaticReplayClient::new(events);
    (common::Replay::DEV.clients(&http), http)
}

fn deployment() -> opsdeck::config::Deployment {
    let (config, _) = opsdeck::config::Config::parse(
        "[[deployment]]\nname = \"dev\"\nregion = \"us-east-1\"\n",
        std::path::Path::new("t.toml"),
    );
    config.deployments[0].clone()
}

fn preview() -> ChangeSetPreview {
    ChangeSetPreview {
        stack: "dev-web".into(),
        change_set: "opsdeck-1".into(),
        change_set_id: "arn:aws:cloudformation:us-east-1:123456789012:changeSet/opsdeck-1/x".into(),
        create: false,
        changes: vec![ResourceChange {
            action: "Modify".into(),
            logical_id: "UploadQueue".into(),
            kind: "AWS::SQS::Queue".into(),
            replacement: Some("True".into()),
        }],
        parameters: vec![],
    }
}

/// The SDK's form-encoded query requests, by `Action`.
fn actions(http: &StaticReplayClient) -> Vec<String> {
    http.actual_requests()
        .map(|r| {
            let body = std::str::from_utf8(r.body().bytes().unwrap()).unwrap();
            url::form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v.into_owned())
                .unwrap()
        })
        .collect()
}

/// Runs `plan`, cancelling it once a line containing `cancel_at` appears.
async fn run(
    plan: Plan,
    c: Clients,
    cancel_at: Option<&str>,
) -> (Outcome, Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit = AuditLog::at(audit_path.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let token = tokio_util::sync::CancellationToken::new();
    let who = Some(opsdeck::model::Identity {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/oncall".into(),
    });
    let ctx = Ctx::new(tx, token.clone());
    let job =
        tokio::spawn(async move { jobs::run(&plan, &audit, Source::Cli, who, Some(c), ctx).await });
    let mut lines = Vec::new();
    while let Some(u) = rx.recv().await {
        if let JobUpdate::Line(l) = u {
            if cancel_at.is_some_and(|n| l.contains(n)) {
                token.cancel();
            }
            lines.push(l);
        }
    }
    let outcome = job.await.unwrap();
    let audit: Vec<String> = std::fs::read_to_string(audit_path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["result"].as_str().unwrap().to_string()
        })
        .collect();
    (outcome, lines, audit)
}

#[tokio::test]
async fn a_live_event_stream_is_followed_to_update_complete() {
    let (c, http) = clients(vec![
        available(),
        events(&[OLD]),
        executed(),
        stack("UPDATE_IN_PROGRESS"),
        events(&[
            (
                "e2",
                "UploadQueue",
                "AWS::SQS::Queue",
                "UPDATE_IN_PROGRESS",
                "Requested update requires the creation of a new physical resource; hence creating one.",
            ),
            (
                "e1",
                "dev-web",
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                "User Initiated",
            ),
            OLD,
        ]),
        stack("UPDATE_COMPLETE"),
        events(&[
            (
                "e4",
                "dev-web",
                "AWS::CloudFormation::Stack",
                "UPDATE_COMPLETE",
                "",
            ),
            (
                "e3",
                "UploadQueue",
                "AWS::SQS::Queue",
                "UPDATE_COMPLETE",
                "",
            ),
            ("e2", "", "", "", ""),
        ]),
    ]);
    let plan = jobs::stacks::execute(&deployment(), &preview());
    // The replacement is in the dialog, in the warning colour.
    assert!(
        plan.lines
            .iter()
            .any(|l| l.starts_with("⚠ ") && l.contains("replacement: True")),
        "{:?}",
        plan.lines
    );
    let (outcome, lines, audit) = run(plan, c, None).await;
    assert_eq!(outcome, Outcome::ok("stack dev-web: UPDATE_COMPLETE"));
    // Each event once, oldest first, none from before the deploy.
    let shown: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("AWS::"))
        .filter(|l| l.contains("_IN_PROGRESS") || l.contains("_COMPLETE"))
        .filter(|l| !l.contains("Modify"))
        .collect();
    let order: Vec<(&str, &str)> = shown
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[1], f[3].trim_end_matches(':'))
        })
        .collect();
    assert_eq!(
        order,
        [
            ("dev-web", "UPDATE_IN_PROGRESS"),
            ("UploadQueue", "UPDATE_IN_PROGRESS"),
            ("UploadQueue", "UPDATE_COMPLETE"),
            ("dev-web", "UPDATE_COMPLETE"),
        ],
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("CREATE_COMPLETE")));
    assert_eq!(
        actions(&http),
        [
            "DescribeChangeSet",
            "DescribeStackEvents",
            "ExecuteChangeSet",
            "DescribeStacks",
            "DescribeStackEvents",
            "DescribeStacks",
            "DescribeStackEvents"
        ]
    );
    assert_eq!(audit, ["started", "ok"]);
}

#[tokio::test]
async fn a_failed_update_names_the_rollback_and_the_first_failed_resource() {
    let (c, _http) = clients(vec![
        available(),
        events(&[OLD]),
        executed(),
        stack("UPDATE_ROLLBACK_IN_PROGRESS"),
        events(&[
            (
                "e4",
                "dev-web",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "The following resource(s) failed to update: [UploadQueue].",
            ),
            (
                "e3",
                "UploadTopic",
                "AWS::SNS::Topic",
                "CREATE_FAILED",
                "Resource creation cancelled",
            ),
            (
                "e2",
                "UploadQueue",
                "AWS::SQS::Queue",
                "UPDATE_FAILED",
                "Resource handler returned message: \"Queue dev-uploads already exists\"",
            ),
            (
                "e1",
                "dev-web",
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                "User Initiated",
            ),
            OLD,
        ]),
        stack("UPDATE_ROLLBACK_COMPLETE"),
        events(&[
            (
                "e5",
                "dev-web",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_COMPLETE",
                "",
            ),
            ("e4", "", "", "", ""),
        ]),
    ]);
    let plan = jobs::stacks::execute(&deployment(), &preview());
    let (outcome, lines, audit) = run(plan, c, None).await;
    let Outcome::Failed { message, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        message.starts_with(
            "stack dev-web: UPDATE_ROLLBACK_COMPLETE: the update failed and was rolled back"
        ),
        "{message}"
    );
    assert!(
        message.ends_with(
            "first failure: UploadQueue (AWS::SQS::Queue): Resource handler returned message: \"Queue dev-uploads already exists\""
        ),
        "{message}"
    );
    // Failed events are warnings in the job's output.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("⚠ ") && l.contains("UploadQueue AWS::SQS::Queue UPDATE_FAILED")),
        "{lines:#?}"
    );
    assert_eq!(audit, ["started", "failed"]);
}

#[tokio::test]
async fn cancel_sends_cancel_update_stack_and_follows_the_rollback() {
    let (c, http) = clients(vec![
        available(),
        events(&[OLD]),
        executed(),
        stack("UPDATE_IN_PROGRESS"),
        events(&[
            (
                "e2",
                "UploadQueue",
                "AWS::SQS::Queue",
                "UPDATE_IN_PROGRESS",
                "",
            ),
            (
                "e1",
                "dev-web",
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                "User Initiated",
            ),
            OLD,
        ]),
        // The cancel, then the rollback to its end.
        xml("CancelUpdateStack", ""),
        stack("UPDATE_ROLLBACK_IN_PROGRESS"),
        events(&[
            (
                "e4",
                "dev-web",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "Stack update cancelled",
            ),
            (
                "e3",
                "UploadQueue",
                "AWS::SQS::Queue",
                "UPDATE_FAILED",
                "Resource update cancelled",
            ),
            ("e2", "", "", "", ""),
        ]),
        stack("UPDATE_ROLLBACK_COMPLETE"),
        events(&[
            (
                "e5",
                "dev-web",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_COMPLETE",
                "",
            ),
            ("e4", "", "", "", ""),
        ]),
    ]);
    let plan = jobs::stacks::execute(&deployment(), &preview());
    assert_eq!(plan.op.cancellable(), Ok(()));
    let (outcome, lines, audit) = run(
        plan,
        c,
        Some("UploadQueue AWS::SQS::Queue UPDATE_IN_PROGRESS"),
    )
    .await;
    let Outcome::Cancelled(message) = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        message.starts_with("stack dev-web: UPDATE_ROLLBACK_COMPLETE: the update was cancelled"),
        "{message}"
    );
    assert!(
        lines.iter().any(|l| l.contains("UPDATE_ROLLBACK_COMPLETE")),
        "{lines:#?}"
    );
    let sent = actions(&http);
    assert_eq!(
        sent[3..],
        [
            "DescribeStacks",
            "DescribeStackEvents",
            "CancelUpdateStack",
            "DescribeStacks",
            "DescribeStackEvents",
            "DescribeStacks",
            "DescribeStackEvents"
        ]
    );
    assert_eq!(sent.iter().filter(|a| *a == "CancelUpdateStack").count(), 1);
    assert_eq!(audit, ["started", "cancelled"]);
}

#[tokio::test]
async fn a_stack_mid_update_is_refused_before_a_change_set_is_created() {
    let (c, http) = clients(vec![stack("UPDATE_IN_PROGRESS")]);
    let source = StackSource {
        name: "dev-web".into(),
        template: TemplateSource::File("config/templates/web-changed.yaml".into()),
        parameters: Default::default(),
        capabilities: vec![],
    };
    let plan = jobs::stacks::preview(&deployment(), &source, true);
    let (outcome, _, audit) = run(plan, c, None).await;
    let Outcome::Refused(why) = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        why.contains("stack dev-web is UPDATE_IN_PROGRESS")
            && why.contains("opsdeck stacks cancel dev-web")
            && why.ends_with("nothing was created"),
        "{why}"
    );
    assert_eq!(actions(&http), ["DescribeStacks"]);
    assert_eq!(audit, ["started", "refused"]);
}

#[tokio::test]
async fn a_replacement_from_the_change_set_reaches_the_diff() {
    let (c, _http) = clients(vec![
        stack("UPDATE_COMPLETE"),
        xml(
            "CreateChangeSet",
            "<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/opsdeck-1/x</Id>",
        ),
        xml(
            "DescribeChangeSet",
            "<ChangeSetName>opsdeck-1</ChangeSetName><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Parameters><member><ParameterKey>Version</ParameterKey><ParameterValue>2</ParameterValue></member></Parameters><Changes><member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>UploadQueue</LogicalResourceId><ResourceType>AWS::SQS::Queue</ResourceType><Replacement>Conditional</Replacement></ResourceChange></member></Changes>",
        ),
    ]);
    let source = StackSource {
        name: "dev-web".into(),
        template: TemplateSource::File("config/templates/web-changed.yaml".into()),
        parameters: Default::default(),
        capabilities: vec![],
    };
    let plan = jobs::stacks::preview(&deployment(), &source, true);
    let (outcome, _, _) = run(plan, c, None).await;
    let Some(Detail::Next(next)) = outcome.detail() else {
        panic!("{outcome:?}");
    };
    let warned: Vec<&String> = next.lines.iter().filter(|l| l.starts_with("⚠ ")).collect();
    assert_eq!(warned.len(), 1, "{:?}", next.lines);
    assert!(warned[0].contains("UploadQueue") && warned[0].contains("replacement: Conditional"));
    assert!(
        next.lines.iter().any(|l| l == "  Version: 1 → 2"),
        "{:?}",
        next.lines
    );
}

/// The console's event history pages through DescribeStackEvents with the
/// token CloudFormation gives. moto answers the whole history in one page,
/// so the paging is shown here on recorded responses: two pages, the second
/// asked with the first's NextToken, then no more.
#[tokio::test]
async fn the_event_history_pages_with_the_next_token_until_the_oldest_event() {
    use opsdeck::app::events::EventHistory;
    use opsdeck::aws::{Request, Response};
    let (c, http) = clients(vec![
        events_page(
            &[
                (
                    "new-2",
                    "UploadQueue",
                    "AWS::SQS::Queue",
                    "UPDATE_FAILED",
                    "Queue name already exists",
                ),
                (
                    "new-1",
                    "dev-web",
                    "AWS::CloudFormation::Stack",
                    "UPDATE_IN_PROGRESS",
                    "User Initiated",
                ),
            ],
            50,
            Some("page-2-token"),
        ),
        events_page(&[OLD], 10, None),
    ]);
    let d = deployment();
    let now = std::time::Instant::now();
    let (mut history, mut request) = EventHistory::open("dev-web", now);
    loop {
        let Request::StackEvents { next: asked, .. } = request.clone() else {
            panic!("{request:?}");
        };
        let answer = opsdeck::aws::fetch(&c, &d.resources, &request)
            .await
            .unwrap();
        let Response::StackEvents { events, next } = answer else {
            panic!("{answer:?}");
        };
        history
            .list
            .fetch
            .finish(now, None, std::time::Duration::ZERO);
        history.apply(asked.as_deref(), events, next);
        match history.wants_more(40) {
            Some(more) => request = more,
            None => break,
        }
    }
    assert!(history.complete());
    let rows: Vec<(String, String, String)> = history
        .list
        .visible_rows()
        .map(|e| (e.id.clone(), e.kind.clone(), e.status.clone()))
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0].0, "new-2", "newest first: {rows:?}");
    assert_eq!(rows[0].1, "AWS::SQS::Queue");
    assert_eq!(rows[2].0, "old-1");
    let sent: Vec<String> = http
        .actual_requests()
        .map(|r| String::from_utf8_lossy(r.body().bytes().unwrap()).to_string())
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(!sent[0].contains("NextToken"), "{}", sent[0]);
    assert!(sent[1].contains("NextToken=page-2-token"), "{}", sent[1]);
    assert!(sent[1].contains("StackName=dev-web"), "{}", sent[1]);
}
