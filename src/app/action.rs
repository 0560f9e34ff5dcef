//! Everything a user can ask opsdeck to do, as data.
//!
//! Keymaps bind keys to these names; the help overlay and the command palette
//! are generated from [`Action::ALL`], so a new action shows up everywhere by
//! being added here once.

use std::fmt;
use std::str::FromStr;

/// What an action does to the world (the plan may lower it, e.g. a dry run).
/// Read-only mode is an allowlist over this: only [`Effect::Read`] actions
/// are offered or performed.
pub use crate::jobs::Effect;

macro_rules! actions {
    ($( $variant:ident => $name:literal, $effect:ident, $help:literal; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $( $variant, )*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[ $( Action::$variant, )* ];

            /// The stable name used in keymap files and the palette.
            pub fn name(self) -> &'static str {
                match self { $( Action::$variant => $name, )* }
            }

            pub fn description(self) -> &'static str {
                match self { $( Action::$variant => $help, )* }
            }

            pub fn effect(self) -> Effect {
                match self { $( Action::$variant => Effect::$effect, )* }
            }
        }
    };
}

actions! {
    Quit => "quit", Read, "Quit opsdeck";
    Help => "help", Read, "Show the keys of the active keymap";
    Palette => "palette", Read, "Run any action by name";
    SwitchDeployment => "switch_deployment", Read, "Pick another deployment";
    NextPanel => "next_panel", Read, "Focus the next panel";
    PrevPanel => "prev_panel", Read, "Focus the previous panel";
    PanelStacks => "panel_stacks", Read, "Show CloudFormation stacks";
    PanelFunctions => "panel_functions", Read, "Show Lambda functions";
    PanelQueues => "panel_queues", Read, "Show SQS queues";
    PanelLogGroups => "panel_log_groups", Read, "Show CloudWatch log groups";
    PanelIndex => "panel_index", Read, "Show the OpenSearch domain";
    PanelLogs => "panel_logs", Read, "Show the live log tail";
    PanelVpn => "panel_vpn", Read, "Show the VPN certificate authority";
    PanelJobs => "panel_jobs", Read, "Show the jobs: running, finished, and earlier ones";
    JobCancel => "job_cancel", Read, "Cancel the selected job (where it can stop part-way)";
    QueuePurge => "queue_purge", Confirmed, "Purge the selected queue: delete every message in it";
    QueuePurgeAll => "queue_purge_all", Confirmed, "Purge every queue of the deployment";
    QueuePeek => "queue_peek", Change, "Peek at the selected queue's messages (raises their receive counts)";
    QueueRedrive => "queue_redrive", Confirmed, "Move the selected dead-letter queue's messages back to their source";
    LambdaDisable => "lambda_disable", Confirmed, "Disable the selected function (reserved concurrency 0; its setting is remembered)";
    LambdaEnable => "lambda_enable", Confirmed, "Enable the selected function as it was before it was disabled";
    LambdaDisableAll => "lambda_disable_all", Confirmed, "Disable every function of the deployment (the emergency switch)";
    LambdaEnableAll => "lambda_enable_all", Confirmed, "Enable every function opsdeck disabled, each as it was";
    RevealValues => "reveal_values", Read, "Show or hide the values of a function's environment variables (its detail view)";
    LambdaInvoke => "lambda_invoke", Change, "Invoke the selected function (confirmed on protected deployments; a dry run is a read)";
    LambdaDeploy => "lambda_deploy", Confirmed, "Deploy new code to the selected function: the configured zip (built first), or a path";
    LambdaDeployZip => "lambda_deploy_zip", Confirmed, "Deploy new code to the selected function from a zip path you type";
    LambdaRollback => "lambda_rollback", Confirmed, "Roll the selected function's alias back to a version picked from its published ones";
    IndexReindex => "index_reindex", Confirmed, "Reindex the configured indices with the deployment's strategy";
    IndexCreate => "index_create", Confirmed, "Create the configured indices that are missing";
    IndexDelete => "index_delete", Confirmed, "Delete the configured indices (listed with their documents)";
    HealthCheck => "health_check", Read, "Check the deployment's health URLs: status, latency, version";
    StackDeploy => "stack_deploy", Change, "Preview a deploy of the selected stack (creates a change set), then confirm its diff";
    StackEvents => "stack_events", Read, "Show the selected stack's whole event history (paged; filter by resource and status)";
    CommandDeploy => "command_deploy", Confirmed, "Run one of the deployment's configured deploy commands (make, cdk, terraform)";
    VpnSign => "vpn_sign", Confirmed, "Sign the selected pending certificate request";
    VpnRevoke => "vpn_revoke", Confirmed, "Revoke the selected certificate";
    VpnCrl => "vpn_crl", Confirmed, "Regenerate the certificate revocation list";
    VpnPublish => "vpn_publish", Confirmed, "Publish the revocation list to the Client VPN endpoint";
    TailLogs => "tail_logs", Read, "Tail the marked log groups, the selected function's, or the configured ones";
    Mark => "mark", Read, "Mark or unmark the selected log group for tailing";
    Follow => "follow", Read, "Pause or follow the log tail";
    SearchNext => "search_next", Read, "Next search match";
    SearchPrev => "search_prev", Read, "Previous search match";
    LogFilter => "log_filter", Read, "Set the tail's CloudWatch filter pattern";
    LogSince => "log_since", Read, "Tail from another start time";
    ToggleWrap => "toggle_wrap", Read, "Wrap long log lines";
    ToggleUtc => "toggle_utc", Read, "Show log times in UTC or local time";
    ToggleStream => "toggle_stream", Read, "Show or hide the log stream column";
    Select => "select", Read, "Start or end a selection of log lines (for copy and save)";
    CopyLine => "copy_line", Read, "Copy the selected log line(s) (OSC 52)";
    SaveLogs => "save_logs", Read, "Save the log buffer (or the selection) to a file";
    Up => "up", Read, "Move the selection up";
    Down => "down", Read, "Move the selection down";
    PageUp => "page_up", Read, "Move the selection up a page";
    PageDown => "page_down", Read, "Move the selection down a page";
    Top => "top", Read, "Select the first row";
    Bottom => "bottom", Read, "Select the last row";
    Open => "open", Read, "Open the selected row";
    Back => "back", Read, "Close the dialog or detail view";
    Refresh => "refresh", Read, "Refresh the focused panel now";
    RefreshAll => "refresh_all", Read, "Refresh every panel now";
    Filter => "filter", Read, "Narrow the list by typing";
    SortNext => "sort_next", Read, "Sort by the next column";
    SortReverse => "sort_reverse", Read, "Reverse the sort order";
    Problems => "problems", Read, "Show configuration problems";
    OpenErrors => "open_errors", Read, "Fleet: open the selected deployment's recent ERROR lines";
    OpenDlqs => "open_dlqs", Read, "Fleet: open the selected deployment's dead-letter queues";
    LogLevel => "log_level", Read, "Show all log lines, WARN and worse, or ERROR and worse";
}

impl Action {
    pub fn is_mutating(self) -> bool {
        self.effect().is_mutating()
    }

    /// Offered on a read-only deployment: the reads, and the invoke, whose
    /// popup then offers only a dry run (a read; its plan says so, and the
    /// job refuses anything else there).
    pub fn offered_read_only(self) -> bool {
        !self.is_mutating() || self == Action::LambdaInvoke
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name is not one of [`Action::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAction {
    pub name: String,
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for UnknownAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown action `{}`", self.name)?;
        if let Some(s) = self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownAction {
                name: s.to_string(),
                suggestion: crate::config::nearest(s, Action::ALL.iter().map(|a| a.name())),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a.name()), "duplicate name {}", a.name());
            assert_eq!(a.name().parse::<Action>(), Ok(*a));
        }
    }

    #[test]
    fn unknown_names_suggest_the_nearest() {
        let err = "refersh".parse::<Action>().unwrap_err();
        assert_eq!(err.suggestion, Some("refresh"));
        assert_eq!(
            err.to_string(),
            "unknown action `refersh`; did you mean `refresh`?"
        );
    }
}
