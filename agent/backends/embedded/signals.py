"""Signals the embedded backend reads off a message and a call, beside the router's probability.

- ``unsupported``: a destructive or blanket verb no tool performs ("kill run 482", "approve all", "delete the test
  customers", which normalising does not do), or instructions smuggled in ("SYSTEM: ...", "ignore previous
  instructions").
- ``inherit``: which arguments of the previous call carry over to this one.
- ``quoted_as_payload``: a quoted passage of several words is what to send, not what is asked
  (message ops: "rerunning run 604" is a notification, not a retry), so the router reads it as one word.
- ``swallowed``: a free-text argument that took in most of a long message, the sign that its extractor found no
  specific value ("list every customer's credit card number" is no customer search); the backend's confidence
  drops for it, since extraction and routing then disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.backends.embedded.extract.freetext import quoted_spans
from agent.backends.embedded.extract.schema import describe_schema

# A follow-up only adjusts a call; these verbs ask for something no tool does ("now drop the customers table").
_DESTRUCTIVE = re.compile(
    r"\b(delet(?:e|ing)|(?<!new )(?<!the )(?<!merch )(?<!latest )(?<!next )(?<!this )(?<!product )drop(?!\s+(?:\w+\s+){0,3}(?:an?\s+)?(?:e-?mail|line|note|message|text|mail|ping)\b|\s+(?:is|was|goes|went|date|day)\b|\s*(?:[.,!?;:)]|$))|"
    r"remov(?:e|ing)|truncate|wipe|eras(?:e|ing)|purge|kill|cancel|refund|nuke|zap|scrap|trash|get\s+rid\s+of|"
    r"write[ -]?off|wire|unschedule|turn off|disable|deactivate|shut ?down|revoke|grant|abort|terminate|halt|"
    r"void|undo|revert(?!\s+(?:with|once|when|after|to\s+(?:me|us)|back|asap|at|soon|quickly|promptly|today|by|on)\b|\W*$)|roll ?back|suppress|pause|"
    r"suspend|unsend|pull\s+(?:it|that|them)\s+back|rm(?=\s+(?:-\w+\s+)?(?:the|that|it|this|/|[\w-]+\.\w)))\b",
    re.I,
)
# What normalising removes: "remove the duplicates" cleans a dataset, "remove the test customers" deletes them.
_CLEANED_AWAY = re.compile(
    r"\b(duplicates?|dupes?|doubles|double entries|blanks?|empty|whitespace|spaces|junk|stray|invalid|typos?)\b",
    re.I,
)
# Instructions smuggled in as data, and requests to hand data out wholesale: never mapped onto a tool.
_INJECTION = re.compile(
    r"^\W*(system|assistant|developer|admin)\s*:|\bforget\s+(what|everything|all)\s+(you\s+(were|have\s+been)\s+told|"
    r"your\s+(instructions|rules))|\bignore\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|"
    r"earlier|your)\s+(instructions|rules|prompt)|\|\s*(sh|bash|zsh|python3?)\b|\bcurl\s+\S+|"
    r"\b(post|upload|forward|exfiltrate|dump|leak)\b.{0,40}\b(all|every)\b.{0,30}\b(e-?mails?|messages|"
    r"passwords?|credentials|card\s+numbers?|records)\b|\bcredit\s+card\s+(numbers?|details)\b|"
    r"\b(password|passwd|credentials|private\s+key|api\s+key|secret\s+key)\b",
    re.I,
)
_NOUN_BEFORE = re.compile(r"\b(the|a|an|for|of|my|our|their|this|that)\s+$", re.I)
_DROP_OFF = re.compile(r"\bdrop\b.+\b(in|into|on|onto|to)\s+(the\s+)?\w", re.I)
# Deciding a request is the approver's own act, never a tool's: "approve all", "approve it on my behalf",
# "reject request 12", "I approve it".
_DECIDES_REQUESTS = re.compile(
    r"\b(approve|sign off|accept)\s+(all|every|everything|them all)\b|"
    r"\bapprove\b.{0,40}\b(all\s+of\s+(it|them)|everything|whatever)\b|\bI\s+(approve|reject)\s+(it|that|this)\b|"
    r"(^\W*|\b(please|pls|kindly|could\s+you|can\s+you|would\s+you)\s+)(approve|reject|decline|deny)\s+"
    r"(it|that|this|request\s+#?\d+|((the|this|that)\s+|\w+['’]s\s+)(\w+\s+){0,3}request)\b|"
    r"\b(approve|reject|decline|sign\s+off(\s+on)?)\s+(the\s+)?(pending\s+)?(approval|request)\s*#?\s*\d+|"
    r"\b(approve|sign|decide|accept)\b.{0,40}\bon\s+my\s+behalf\b|"
    # A decision stated rather than asked for: "mark approval 3 as approved", "I okay it".
    r"\bmark\s+(it|that|this|(the\s+)?(approval|request)(\s+#?\d+)?)\s+(as\s+)?(approved|rejected|declined|signed\s+off)\b|"
    r"\bI\s+(ok|okay|o\.k\.)\s+(it|that|this)\b|"
    r"\bI\s+(may|will|shall|am\s+going\s+to)\s+(just\s+)?(approve|reject|sign\s+off)\b|\bI['’]ll\s+(approve|reject|sign\s+off)\b|"
    r"\b(approve|reject|sign\s+off)\b.{0,60}\bmyself\b",
    re.I,
)
# Other systems and other kinds of work: no tool reaches them, whatever words they share with ours.
_ELSEWHERE = re.compile(
    r"(?<![\w/.-])(sap|outlook|gmail|service\s?now|jira|zendesk|salesforce|hubspot|dbt|airflow|quickbooks|xero|"
    r"tableau|power\s?bi|looker|snowflake|confluence|sharepoint|google\s+drive|dropbox|onedrive|imanage|coupa|ariba|"
    r"netsuite|workday|odoo|concur)(?![\w/.-])|"
    r"\b(send|deliver|upload|push|forward|transfer|put|drop|post)\b.{0,60}\bportals?\b|\bdocument\s+management\s+system\b|"
    r"\b(schedule|book|set\s+up|arrange|organi[sz]e|plan)\s+(a|an|the|our|my)\s+(\w+\s+)?(meeting|appointment|call)\b|"
    r"\bcalendar\s+invite\b|"
    # Messengers we have no channel for, formats no export writes, facts about other companies.
    # A purchase order goes to a supplier ("raise a PO to Bosch for 20 more"); orders here are customers'.
    r"\b(raise|issue|send|place|cut|create)\s+(a\s+|an\s+|the\s+)?(new\s+)?(po|purchase\s+order)\s+(to|with)\b|"
    # Data no tool holds: bank and card details, customs codes ("customers with their IBAN", "HS code for resin").
    r"\biban\b|\b(swift|bic|sort|hs|tariff|customs|harmoni[sz]ed)\s+codes?\b|\bbank\s+(details|account\s+numbers?)\b|"
    r"\btheir\s+bank\s+accounts?\b|\b(credit\s+)?card\s+numbers?\b|\b(private|personal|home)\s+(mobile|phone|cell|address)|"
    r"\bmobile\s+(phone\s+)?numbers\b|"
    r"(?<![\w/.-])(slack|whatsapp|wechat|viber|imessage|sms|snapchat|instagram|facebook|linkedin|discord|skype)\b"
    r"(?!\.\w)|"  # "hooks.slack.com" in a webhook's address names no messenger
    r"\b(kubectl|docker|terraform|helm|ansible)\b|\b(on|via|in|over|through)\s+(ms\s+|microsoft\s+)?(teams|signal)\b|"
    r"(?-i:\bLINE\b)|\bcompetitors?\b|\bmarket\s+share\b|\bconvert\b.{0,40}\b(to|into)\s+(rand|euros?|dollars?|pounds?|yen|usd|eur|gbp|zar)\b|"
    r"\bexchange\s+rates?\b|\bwho'?s\s+winning\b|\bwho\s+(won|wins|is\s+winning)\s+(the\s+)?(worlds|league|cup|match|game|final)|\b(build|create|make|add|design|want|need)\s+(me\s+)?(a\s+)?(new|custom)\s+report\b|"
    r"\b(write|give|show)\s+me\s+(a|an|some|the)\s+(sql|python|bash|shell|excel)?\s*(query|script|code|regex|formula|macro)\b|"
    # Forecasts, and work inside someone's own spreadsheet: no report predicts, no tool edits a sheet.
    r"\b(produce|make|create|build|prepare|draw\s+up|put\s+together|give\s+me|do|run)\s+(\w+\s+){0,3}"
    r"(forecast|prediction|projection)s?\b|"
    r"\b(forecast|predict)\s+(\w+\s+){0,2}(sales|revenue|demand|orders|growth|churn)\b|"
    r"\bsort\s+(my|the|this)\s+(pivot|sheet|spreadsheet|workbook)\b|"
    r"\b(colou?r|highlight|bold)\b.{0,40}\b(rows?|cells?|columns?)\b|"
    r"^\W*(please\s+)?(put|paste|push|write|insert|copy)\b.{0,40}\b(into|in|to)\s+(my|our)\s+"
    r"(google\s+sheets?|spreadsheet|excel|sheet|workbook)\b|"
    # A breakdown no report has: "which wines sell best by grape variety", "sales by store".
    r"\b(sell|sells|sales|sold|selling|revenue)\b.{0,40}\bby\s+(grape|variety|vintage|colou?r|size|supplier|vendor|brand|"
    r"category|flavou?r|style|season|store|shop|branch|channel|salesperson|sales\s+rep|warehouse)\b|"
    # Stock on the shelf and its settings, and staff rotas: no tool keeps either.
    r"\bhow\s+many\b.{0,40}\b(on\s+the\s+shel(f|ves)|in\s+stock|on\s+hand|in\s+the\s+(warehouse|store|bin|stores))\b|"
    r"\b(what'?s|what\s+(is|are)|show\s+me|check|tell\s+me)\s+(the\s+|our\s+)?(stock|inventory)\s+(levels?|on\s+hand|position)\b|"
    r"\b(set|change|update|raise|lower|adjust|bump)\s+(the\s+)?(re-?order\s+(point|level|qty|quantity)|par\s+level|"
    r"(minimum|min|safety)\s+stock)s?\b|"
    r"\b(build|make|create|draw\s+up|do|plan|write|sort\s+out)\s+(me\s+|us\s+)?(a|the|our|next\s+week'?s)\s+"
    r"(\w+\s+){0,2}(rota|roster|shift\s+plan)\b",
    re.I,
)
# Formats no export or report writes (a load reads xlsx, so the load is spared): "export the orders as a pdf".
_NO_SUCH_FORMAT = re.compile(
    r"\b(as|into|to|in)\s+(an?\s+)?(parquet|pdf|avro|orc|yaml|html|docx?|ods|tsv|xlsx?)\b|"
    r"\b(parquet|pdf|avro|orc|yaml|html|docx?|ods|xlsx?|excel)\s+(format|file)s?\b|\b(pdf|parquet|avro|docx?|html)\s+(export|version|copy)\b",
    re.I,
)
# A load reads xlsx, so an xlsx only refuses a load when the message asks for an export ("Export orders as XLSX").
_EXPORTS = re.compile(r"^\W*(?:please\s+)?(?:export|extract|dump|download)\b", re.I)
# Changes no tool makes: a rule edited or waived for one customer, a discount, an order edited, SQL to run.
_NO_TOOL_CHANGE = re.compile(
    r"\b(modify|change|amend|edit|update|alter|adjust|tweak|rewrite)\s+(the\s+)?([\w-]+\s+){0,2}"
    r"(rule|ruleset|threshold|policy)s?\b|\b(exempt|whitelist|blacklist)\b|"
    r"\b(lift|release|waive)\s+(the\s+)?(credit\s+)?hold\s+(on|for)\b|"
    # One customer kept out of a ruleset, a rule's setting changed, an order's line edited, a price haggled over.
    r"(\b(exclude|leave|keep|skip|omit)\b.{0,40}\b(out\s+of|from)|\btake\b.{0,40}\bout\s+of)\s+(the\s+)?([\w-]+\s+){0,2}"
    r"(rules?|ruleset|tiering|run|hold)\b|"
    r"\b(increase|decrease|raise|lower|change|set|extend|reduce|bump)\s+(the\s+)?([\w-]+\s+){0,3}"
    r"(overdue(\s+days)?|days\s+limit|credit\s+limit|cut-?off|percentage)\b|"
    r"\b(modify|amend|edit|change|update|alter|correct|fix|reduce|increase)\s+(the\s+)?(quantity|qty|price|date|"
    r"address|items?|lines?|total|amount|value)\s+(in|on|of|for)\s+(the\s+)?order\s+(no\.?\s*|number\s+|#\s*)?\d|\bnegotiate\b|"
    # An order placed is changed by a person ("reduce that order to 15 units"); payment terms are no tool's.
    r"\b(reduce|increase|amend|modify|cut|lower|raise|change)\s+(that|the|this|my|our|their)\s+order\s+(to|by)\b|"
    r"\b(give|grant|extend|allow)\b.{0,30}\b(\d+|more|extra|another)\s+(more\s+|extra\s+)?days?\s+to\s+pay\b|"
    r"\bpayment\s+terms\b|\bnet[\s-]?(30|45|60|90)\b|"
    # A customer added by hand: "add the new customer Al Noor Trading" (a file of new customers is a load).
    r"\b(add|create|register|enter|set\s+up)\s+(the\s+|a\s+)?new\s+(customer|client|supplier|vendor|product|sku|item)\b"
    r"(?!s\b|\s+(file|list|data|records|csv|sheet|from)\b)|"
    r"\b(put|move|bump|set|make)\b.{0,40}\b(on|to|as|into)\s+(gold|silver|bronze)\b|"
    # One customer put on hold, a record annotated, a customer's details changed, an order changed in place.
    r"\b(put|place|move|set)\s+(?:(?:customer|client|account)\s+\S+|\d{3,7}|(?-i:[A-Z][\w&'.-]*)(?:\s+(?-i:[A-Z])[\w&'.-]*){0,3})"
    r"\s+on\s+(credit\s+)?hold\b|\bon\s+(credit\s+)?hold\b.{0,40}\b(by\s+hand|manually)\b|"
    r"\b(annotate|tag)\s+(that|the|this|their)\s+(account|record|customer)\b|\badd\s+(a\s+)?notes?\s+to\b|"
    r"\b(update|change|edit|correct|amend)\s+(customer|client|account)\s+\S+\s+(e-?mail|phone|address|contact|name)|"
    r"\bon\s+the\s+same\s+order\b|\bdon'?t\s+(make|create|place|book)\s+(a\s+)?new\s+one\b|"
    r"\boff\s+(the\s+)?(credit\s+)?hold\b.{0,30}\b(just|only|alone)\b|"
    r"\b(knock|take)\s+(another\s+|an?\s+(extra\s+)?)?\d+\s*%?\s*(percent\s+)?off\b|"
    # "how does the bulk discount work, when we give more discount" describes the rule: no request
    r"(?<!\bwhen\swe\s)(?<!\bif\swe\s)(?<!\bwhen\syou\s)(?<!\bif\syou\s)"
    r"\b(give|apply|offer|grant)\s+(\w+\s+){0,3}(an?\s+)?(\d+\s*%\s*)?discount\b|\b(give|take|knock|apply|offer|add)\b.{0,30}\b\d+\s*%\s*off\b|"
    # A tier, a flow or a role set by hand: "give Initech gold status", "make a new flow", "make me an approver".
    r"\b(give|grant|make|set|move|put|bump)\b.{0,40}\b(gold|silver|bronze|vip)\s+(status|tier|level)\b|"
    r"\b(make|create|build|add|set\s+up|write)\s+(me\s+)?(an?\s+)?new\s+(flow|pipeline|workflow|job)\b|"
    r"\ban?\s+new\s+(flow|pipeline|workflow|job)\s+(called|named)\b|"  # "schedule a new flow called …"
    r"\b(make|add|set)\s+(me|myself|him|her|them|\w+)\s+(an?\s+)?(approver|admin|administrator)\b|"
    r"\b(modify|amend|edit|change|update|alter|correct)\s+(the\s+)?order\s+(no\.?\s*|number\s+|#\s*)?\d|"
    r"\b(update|change|edit|correct)\s+(the\s+|their\s+|its\s+)?(contact|e-?mail|phone|address|billing)\b|"
    r"\bupdate\s+\w+\s+set\b|\bdelete\s+from\b|\binsert\s+into\b|\bdrop\s+table\b|"
    # A threshold set, a column or price edited, a file renamed: "set vip gold threshold 300k".
    r"\b(set|raise|lower|increase|decrease|bump|move)\s+(the\s+)?([\w-]+\s+){0,3}"
    r"(threshold|cut-?off|credit\s+limit|attempts|retries|retry\s+limit|timeout)\b|"
    # Config no chat changes: "add a new sftp destination for 10.0.4.12", "create a user for Ana".
    r"\b(add|create|set\s+up|configure|register|define)\s+(an?\s+)?(new\s+)?(\w+\s+)?"
    r"(destination|recipient\s+group|user|api\s+key|sftp\s+(server|target))\b|"
    r"\b(update|change|set|edit)\s+(the\s+)?([\w-]+\s+){0,2}(column|field|cell|unit_?price)\b|\b(rename|re-?label)\b|"
    r"\b(add|create|remove)\s+(an?\s+|the\s+)?(new\s+)?(column|field|attribute)s?\b|"
    # Where an order goes is set outside: "change that to deliver to site 7 not the yard", "new delivery address".
    r"\b(change|switch|amend|update)\s+(that|it|this|the\s+order)\s+(to|so\s+it)\s+(deliver|ship|goes?)\b|"
    r"\b(delivery|shipping)\s+address\b|"
    # A rule's own setting changed by hand: "Change bulk discount: for 500 units must be 12%, not 10%."
    r"^\W*(please\s+)?(change|modify|amend|edit|alter|adjust|tweak|raise|lower|increase|decrease)\s+(the\s+)?"
    r"(bulk\s+discount|credit[\s-]+hold|vip\s+(tiering|tiers?|thresholds?))\b|"
    r"\b(bulk\s+)?discount\b.{0,40}\b(must|should)\s+(now\s+)?be\s+\d+(\.\d+)?\s*%|"
    r"\b(draft|write|compose|prepare)\s+(an?\s+|the\s+)?([\w-]+\s+)?(memo|letter|postmortem|post-mortem|press\s+release|essay|blog\s+post)\b|"
    r"\b(change|set|update|edit|lower|raise|cut)\s+(the\s+)?(list\s+|unit\s+|catalog(ue)?\s+)?prices?\s+(on|of|for)\b"
    r"(?!\s+\d).{0,40}\bto\s+\$?\d|"
    # A rule's own number set to another: "change credit hold overdue days to 90", "set gold to 300k".
    r"\b(change|set|raise|lower|increase|decrease|make|drop|cut|reduce|bring|push|move)\s+(the\s+)?"
    r"(credit[\s-]+hold|vip|gold|silver|bronze|bulk\s+discount)"
    r"\b.{0,30}\b(to|=)\s*\d",
    re.I,
)
# Tools whose own job is removing or replacing data; for every other tool a destructive verb means "not a tool".
_REMOVES_DATA = frozenset({"normalize_dataset", "ingest_file"})
# A load replaces what it wipes ("load it as replace, wipe the old ones"); "remove the rows just loaded" loads nothing.
_REPLACES = re.compile(
    r"\b(replace|replacing|overwrite|overwriting|reload|re-?import)\b|"
    r"\b(old|existing|previous|current)\s+(ones|rows|data|records|entries|products|orders|customers)\b(?!\.\w)",
    re.I,
)
# Free-text arguments that should hold a short, specific value: a name, an e-mail, an id.
SPECIFIC_TEXT = frozenset({"query"})
SWALLOWED_WORDS = 4
SWALLOWED_SHARE = 0.7


# A message that asks for nothing: "Test message, please ignore."
_IGNORE_ME = re.compile(
    r"\bplease\s+ignore\b|\bignore\s+(this|that)(\s+message)?\W*$|^\W*test(ing)?(\s+message)?\W*$", re.I
)


def unsupported(text: str, tool: str) -> bool:
    """Work no tool does: a destructive or blanket verb, smuggled instructions, or another system's job.

    "delete the test customers", "SYSTEM: ...", "open SAP and check invoice 4455", "write me a SQL query".
    """
    if any(p.search(text) for p in (_DECIDES_REQUESTS, _INJECTION, _ELSEWHERE, _NO_TOOL_CHANGE, _IGNORE_ME)):
        return True
    if (tool != "ingest_file" or _EXPORTS.search(text)) and _NO_SUCH_FORMAT.search(text):
        return True
    if tool == "normalize_dataset":
        return destructive(text) and not _CLEANED_AWAY.search(text)
    if tool == "ingest_file":
        return destructive(text) and not _REPLACES.search(text)
    return tool not in _REMOVES_DATA and destructive(text)


# Notifications reach our own teams and addresses, never a customer: "email Acme their tracking numbers" (a named
# customer reads "customer" once the database's names are typed), "send all the clients in LATAM the new prices".
_CONTACTS_CUSTOMER = re.compile(
    r"(?:^|[.!?;:,]\s*|\b(?:please|pls|can\s+you|could\s+you|would\s+you|and|then|also|just|now|to)\s+)"
    r"(e-?mail|mail|text|call|ring|phone|message|write\s+to|contact|reach\s+out\s+to|chase|nudge|remind|notify|"
    r"tell|inform|warn|thank|reply\s+to|respond\s+to|send(?:(?:\s+(?:an?\s+)?(?:e-?mail|message|note|text|reminder)s?)?"
    r"\s+to)?)\s+(?:all\s+)?(?:of\s+)?(?:the\s+|our\s+|every\s+|each\s+|those\s+|these\s+)?(?:clients?|customers?|"
    r"buyers?|policyholders?|account\s+holders?|guests?|patients?|tenants?|residents?|passengers?|consignees?)\b(?![\'’]s|\s+(?:list|data|export|file|report|dataset|table|csv|sheet|master|team|group|success|"
    r"service|care|ops|support|sync|records?|ids?|numbers?|details|query|lookup|search|to|as|\d))",
    re.I,
)


FOR_CUSTOMERS = (
    "I can't send anything to a customer: notifications go to your own teams and addresses (finance, ops, sales). "
    "I can look the customer up, so you can contact them yourself."
)


def contacts_customer(text: str) -> bool:
    """A message meant for a customer (``text`` with the database's names typed): no channel reaches one."""
    return _CONTACTS_CUSTOMER.search(text) is not None


def no_tool_does(text: str) -> bool:
    """Another system's job, a change no tool makes, or deciding a request: never what a follow-up points at."""
    return any(p.search(text) for p in (_DECIDES_REQUESTS, _ELSEWHERE, _NO_TOOL_CHANGE))


def destructive(text: str) -> bool:
    """A verb that removes, stops or pays out ("drop the table"), but not "drop the file in the share"."""
    # "I need their id for the refund": after an article the word is a thing, not an act
    verbs = {
        m.group(1).lower() for m in _DESTRUCTIVE.finditer(text) if not _NOUN_BEFORE.search(text[: m.start()])
    }
    if "drop" in verbs and _DROP_OFF.search(text):
        verbs.discard("drop")  # "drop the file in the finance folder" delivers it
    return bool(verbs)


def inherit(
    args: dict[str, Any], previous: Mapping[str, Any], schema: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Carry over arguments from the previous call ("export that as csv").

    Same-named arguments carry over; so does a value that is a valid choice of exactly one unfilled enum
    argument under another name, since tools name the same thing differently ("explain credit hold" then
    "apply it": rule → ruleset; "export sales by region" then "just show me": dataset → report).
    """
    names = set(schema.get("properties", {}))
    carried = {k: v for k, v in previous.items() if k in names and k not in args and v is not None}
    for spec in describe_schema(schema):
        if spec.name in args or spec.name in carried or not spec.enum:
            continue
        fits = {v for k, v in previous.items() if k not in names and isinstance(v, str) and v in spec.enum}
        if len(fits) == 1:
            carried[spec.name] = fits.pop()
    return {**carried, **args}, bool(carried)


def swallowed(text: str, args: Mapping[str, Any]) -> str | None:
    """The specific free-text argument that took in most of a message of several words, if any."""
    words = len(text.split())
    for name in SPECIFIC_TEXT:
        value = args.get(name)
        if isinstance(value, str):
            size = len(value.split())
            if size >= SWALLOWED_WORDS and size >= SWALLOWED_SHARE * words:
                return name
    return None


# A quoted passage of at least this many words is a payload; a quoted file name ("orders_today.csv") is not.
PAYLOAD_WORDS = 3
# A passage is what someone else asked when the words before it forward it ("my boss says: '...'", "the customer's
# e-mail: '...'", "ticket text: '...'"), unless a clause there sends it ("please e-mail finance: '...'", "tell ops
# '...'"). The request is then in it, so it is read as written; any other passage is a payload.
_FORWARDED = re.compile(
    r"\b(?:asks?|asked|asking|says|said|wrote|writes|wants|wanted|fw|fwd|forwarded|ticket|e-?mail|request|question|"
    r"pasted?|verbatim|quote|inquiry|enquiry|rfq|po|boss|manager|cfo|ceo|coo|cto|director|customer|client|vendor|"
    r"supplier|auditor|colleague|from)\b(?:\W+[\w.'-]+){0,5}\W*$",
    re.I,
)
_SENDS = re.compile(
    r"(?:(?:^|[.!?;:,(]|\b(?:please|pls|plz|can\s+you|could\s+you|would\s+you|and|then|also|just|now|so|to|go|"
    r"quickly|kindly)\b)\s*(?:send|tell|notify|ping|post|alert|inform|warn|remind|announce|broadcast|dm|telegram|"
    r"tg|message|msg|e-?mail|mail|text|shout|write|drop|put|reply|answer)\b(?:\W+[\w@.+-]+){0,8}"
    r"|\b(?:saying|that\s+says|which\s+says|with\s+(?:the\s+)?(?:message|text|note|words)|reading)\b)\W*$",
    re.I,
)


def _forwarded(before: str) -> bool:
    return _FORWARDED.search(before) is not None and _SENDS.search(before) is None


def quoted_as_payload(text: str) -> str:
    """``text`` with each quoted passage of several words replaced by the word "message", unless it is forwarded."""
    pieces, cursor = [], 0
    for start, end in quoted_spans(text):
        if len(text[start:end].split()) >= PAYLOAD_WORDS and not _forwarded(text[:start]):
            pieces.extend([text[cursor:start], "message"])
            cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)
