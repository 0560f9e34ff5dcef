#!/bin/sh
# The sandbox's command deploy (`opsdeck deploy web` on dev or prod): prints
# coloured progress for a few seconds, as Terraform or CDK would, then
# deploys config/templates/web-changed.yaml to the deployment's web stack
# through the emulator. Ctrl-C (or the job's cancel) stops it cleanly.
set -e
trap 'printf "\033[33minterrupted: cleaning up\033[0m\n"; exit 130' INT
d="${OPSDECK_DEPLOYMENT:?run me through opsdeck deploy}"
for step in "reading the configuration" "planning" "checking the stack $d-web"; do
    printf '\033[36m==>\033[0m %s\n' "$step"
    sleep 1
done
printf '\033[32m==>\033[0m deploying %s-web\n' "$d"
"${OPSDECK:-opsdeck}" --config config/sandbox.toml --endpoint-url "$AWS_ENDPOINT_URL" \
    --deployment "$d" stacks deploy "$d-web" --yes --confirm "$d" || {
    status=$?
    # 3: deployed, but a health check failed. Not this script's verdict:
    # opsdeck checks the deployment's health again when this script ends.
    [ "$status" -eq 3 ] || exit "$status"
}
printf '\033[1;32mdone\033[0m\n'
