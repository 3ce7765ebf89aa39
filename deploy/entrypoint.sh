#!/bin/sh
# The role of this container: rasa | actions | tickets | console. Configuration: the environment
# (bot/settings.py; REDIS_URL, DATABASE_URL, BIANMIN_RASA_TOKEN, BIANMIN_TICKETS_TOKEN, BIANMIN_ACTIONS_URL,
# BIANMIN_ACTIONS_TOKEN ...).
set -e
role="${1:-rasa}"
case "$role" in
  rasa)
    # endpoints.yml reads BIANMIN_REDIS_* (tracker and lock store) and BIANMIN_ACTIONS_TOKEN; Rasa's lock store
    # TICKET_LOCK_LIFETIME (from BIANMIN_LOCK_LIFETIME); the credentials come from the environment
    eval "$(python -c 'from bot.settings import load, to_env; import shlex; [print(f"export {k}={shlex.quote(v)}") for k, v in to_env(load()).items() if k.startswith("BIANMIN_REDIS_") or k in ("BIANMIN_ACTIONS_TOKEN", "TICKET_LOCK_LIFETIME")]')"
    credentials=$(python -c 'from bot.settings import load; from stack.run import write_credentials; print(write_credentials(load()))')
    model=$(python -c 'from bot.settings import load; from stack.training import model_path; print(model_path(load()))')
    # stack.rasa_server: Rasa's own command line, with the log privacy filter of every Bianmin process
    exec python -m stack.rasa_server run --model "$model" --enable-api --auth-token "$BIANMIN_RASA_TOKEN" \
      --port "${BIANMIN_RASA_PORT:-5005}" --interface 0.0.0.0 --cors ${BIANMIN_CORS_ORIGINS:-"*"} \
      --credentials "$credentials" --endpoints endpoints.yml ;;
  actions) exec python -m actions ;;
  tickets) exec python -m tickets ;;
  console) exec python -m console ;;
  *) echo "unknown role: $role (rasa | actions | tickets | console)" >&2; exit 2 ;;
esac
