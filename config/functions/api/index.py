"""The sandbox's api function: the code `opsdeck lambdas deploy` (or U on the
Functions panel) builds into target/sandbox/api.zip and deploys. Change it to
deploy something new."""

VERSION = "from the repository"


def handler(event, context):
    return {"ok": True, "version": VERSION, "echo": event}
