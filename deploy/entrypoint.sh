#!/bin/sh
# The role of this container: rasa | actions | tickets | console. Configuration: the environment
# (bot/settings.py; REDIS_URL, DATABASE_URL, BIANMIN_RASA_TOKEN, BIANMIN_TICKETS_TOKEN, BIANMIN_ACTIONS_URL ...).
set -e
role="${1:-rasa}"
case "$role" in
  rasa)
    # endpoints.yml reads BIANMIN_REDIS_* (tracker and lock store); the credentials come from the environment
    eval "$(python -c 'from bot.settings import load, to_env; import shlex; [print(f"export {k}={shlex.quote(v)}") for k, v in to_env(load()).items() if k.startswith("BIANMIN_REDIS_")]')"
    credentials=$(python -c 'from bot.settings import load; from stack.run import write_credentials; print(write_credentials(load()))')
    model=$(python -c 'from bot.settings import load; from stack.training import model_path; print(model_path(load()))')
    exec python -m rasa run --model "$model" --enable-api --auth-token "$BIANMIN_RASA_TOKEN" \
      --port "${BIANMIN_RASA_PORT:-5005}" --interface 0.0.0.0 --cors ${BIANMIN_CORS_ORIGINS:-"*"} \
      --credentials "$credentials" --endpoints endpoints.yml ;;
  actions) exec python -m actions ;;
  tickets) exec python -m tickets ;;
  console) exec python -m console ;;
  *) echo "unknown role: $role (rasa | actions | tickets | console)" >&2; exit 2 ;;
esac
