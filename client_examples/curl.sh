#!/usr/bin/env sh
# The same API from the shell. GET works for queries; POST for everything.
#
#   export HUB_TOKEN=$(.venv/bin/hub token issue yingji)   # 应急管理局: regions and flood points
#   sh client_examples/curl.sh [http://127.0.0.1:8000/graphql]
HUB=${1:-${HUB:-http://127.0.0.1:8000/graphql}}
if [ -z "$HUB_TOKEN" ]; then
  echo "HUB_TOKEN is not set: export HUB_TOKEN=\$(.venv/bin/hub token issue yingji) first (未设置 HUB_TOKEN)" >&2
  exit 2
fi

# How many villages and communities the city has.
curl -s -G "$HUB" -H "Authorization: Bearer $HUB_TOKEN" -H 'Accept: application/graphql-response+json' \
  --data-urlencode 'query={ regions(level: VILLAGE) { totalCount } }'
echo

# 西天尾镇's flood points with their nearby enterprise, as JSON via POST.
curl -s "$HUB" -H "Authorization: Bearer $HUB_TOKEN" -H 'Content-Type: application/json' -H 'Accept: application/graphql-response+json' \
  -d '{"query":"query($t: String) { floodPoints(regionCode: $t) { totalCount nodes { name riskLevel status nearbyEnterprise { name } } } }","variables":{"t":"350304100000"}}'
echo
