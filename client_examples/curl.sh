#!/usr/bin/env sh
# The same API from the shell. GET works for queries; POST for everything.
HUB=${HUB:-http://127.0.0.1:8000/graphql}

# How many villages and communities the city has.
curl -s -G "$HUB" -H 'Accept: application/graphql-response+json' \
  --data-urlencode 'query={ regions(level: VILLAGE) { totalCount } }'
echo

# 西天尾镇's flood points with their nearby enterprise, as JSON via POST.
curl -s "$HUB" -H 'Content-Type: application/json' -H 'Accept: application/graphql-response+json' \
  -d '{"query":"query($t: String) { floodPoints(regionCode: $t) { totalCount nodes { name riskLevel status nearbyEnterprise { name } } } }","variables":{"t":"350304100000"}}'
echo
