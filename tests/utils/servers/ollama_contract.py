"""What a request to Ollama may contain: the documented /api/chat and /api/show fields, checked strictly.

Sources: Ollama's docs/api.md ("Generate a chat completion", "Show Model Information") and the official client's
request types (``ollama/_types.py``: ``ChatRequest``, ``Message``, ``Tool``, ``Options``). A real server ignores
an unknown field or option and drops a tool-schema keyword its ``ToolProperty`` does not hold, both silently; the
fake names each one instead, so a test fails where production would quietly misbehave.

Tool schemas are held to what reaches the model: every property needs a ``type`` (an array also its ``items``)
and may carry only ``type``, ``items``, ``description`` and ``enum``; ``required`` names only existing properties;
enum values match the declared type.
"""

from __future__ import annotations

from typing import Any

CHAT_FIELDS = {
    "model",
    "messages",
    "tools",
    "format",
    "options",
    "stream",
    "keep_alive",
    "think",
    "logprobs",
    "top_logprobs",
}
MESSAGE_FIELDS = {"role", "content", "thinking", "images", "tool_calls", "tool_name"}
ROLES = {"system", "user", "assistant", "tool"}
PROPERTY_FIELDS = {"type", "items", "description", "enum"}
PARAMETER_FIELDS = {"type", "properties", "required"}
JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}
THINK_LEVELS = {"high", "medium", "low"}
INT, FLOAT, BOOL = "int", "float", "bool"
OPTIONS: dict[str, str] = {
    **dict.fromkeys(
        (
            "num_ctx num_batch num_gpu main_gpu num_thread num_keep seed num_predict top_k repeat_last_n mirostat"
        ).split(),
        INT,
    ),
    **dict.fromkeys(
        (
            "top_p min_p tfs_z typical_p temperature repeat_penalty presence_penalty frequency_penalty "
            "mirostat_tau mirostat_eta"
        ).split(),
        FLOAT,
    ),
    **dict.fromkeys(
        "numa low_vram f16_kv logits_all vocab_only use_mmap use_mlock embedding_only penalize_newline".split(),
        BOOL,
    ),
    "stop": "list[str]",
}
_PY = {"string": str, "boolean": bool, "object": dict, "array": list}


def chat_problems(body: Any) -> list[str]:
    """Every way ``body`` departs from the documented /api/chat request (empty when it conforms)."""
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = [f"unknown field '{key}'" for key in body if key not in CHAT_FIELDS]
    if not isinstance(body.get("model"), str) or not body["model"]:
        problems.append("'model' must be a non-empty string")
    messages = body.get("messages", [])
    if not isinstance(messages, list):
        problems.append("'messages' must be a list")
        messages = []
    for i, message in enumerate(messages):
        problems += _message_problems(f"messages[{i}]", message)
    tools = body.get("tools", [])
    if not isinstance(tools, list):
        problems.append("'tools' must be a list")
        tools = []
    for i, tool in enumerate(tools):
        problems += tool_problems(f"tools[{i}]", tool)
    if "format" in body:
        problems += _format_problems(body["format"])
    if "options" in body:
        problems += _options_problems(body["options"])
    problems += _typed(body, "stream", bool) + _typed(body, "logprobs", bool)
    if "keep_alive" in body and (
        isinstance(body["keep_alive"], bool) or not isinstance(body["keep_alive"], str | int | float)
    ):
        problems.append("'keep_alive' must be a duration string such as '10m' or a number of seconds")
    think = body.get("think")
    if "think" in body and not (isinstance(think, bool) or think in THINK_LEVELS):
        problems.append("'think' must be true, false, 'high', 'medium' or 'low'")
    if "top_logprobs" in body:
        top = body["top_logprobs"]
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= 20:
            problems.append("'top_logprobs' must be an integer from 0 to 20")
        elif top and not body.get("logprobs"):
            problems.append("'top_logprobs' needs 'logprobs': true")
    return problems


def show_problems(body: Any) -> list[str]:
    """Every way ``body`` departs from the documented /api/show request."""
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = [
        f"unknown field '{key}'"
        for key in body
        if key not in {"model", "name", "verbose", "system", "template", "options"}
    ]
    if not isinstance(body.get("model") or body.get("name"), str):
        problems.append("'model' must be a non-empty string")
    return problems + _typed(body, "verbose", bool)


def tool_problems(where: str, tool: Any) -> list[str]:
    """Problems of one ``tools`` entry, including any argument the model would see without a type or values."""
    if not isinstance(tool, dict):
        return [f"{where} is not an object"]
    problems = [f"{where}: unknown field '{key}'" for key in tool if key not in {"type", "function"}]
    if tool.get("type", "function") != "function":
        problems.append(f"{where}.type must be 'function'")
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
        return [*problems, f"{where}.function.name must be a non-empty string"]
    where = f"{where} ({function['name']})"
    problems += [
        f"{where}: unknown field 'function.{key}'"
        for key in function
        if key not in {"name", "description", "parameters"}
    ]
    parameters = function.get("parameters")
    if parameters is None:
        return problems
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        return [*problems, f"{where}.parameters must be an object schema with type 'object'"]
    problems += [
        f"{where}.parameters.{key}: Ollama's tool schema has no '{key}'; it would be dropped"
        for key in parameters
        if key not in PARAMETER_FIELDS
    ]
    properties = parameters.get("properties") or {}
    for name, schema in properties.items():
        problems += property_problems(f"{where}.{name}", schema)
    for name in parameters.get("required") or []:
        if name not in properties:
            problems.append(f"{where}: required argument '{name}' is not among the properties")
    return problems


def property_problems(where: str, schema: Any) -> list[str]:
    """Problems of one argument's schema as the model would receive it."""
    if not isinstance(schema, dict):
        return [f"{where} is not a schema object"]
    problems = [
        f"{where}: Ollama's tool schema has no '{key}'; it would be dropped"
        for key in schema
        if key not in PROPERTY_FIELDS
    ]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is None:
        problems.append(f"{where} has no type")
    elif not all(isinstance(k, str) and k in JSON_TYPES for k in kinds):
        problems.append(f"{where} has an unknown type {kind!r}")
    if "array" in kinds:
        if "items" not in schema:
            problems.append(f"{where} is an array with no items schema")
        else:
            problems += property_problems(f"{where}[]", schema["items"])
    if "enum" in schema:
        values = schema["enum"]
        if not isinstance(values, list) or not values:
            problems.append(f"{where}.enum must be a non-empty list")
        elif kind is not None and not all(_is(value, kinds) for value in values):
            problems.append(f"{where}: enum values {values!r} do not match type {kind!r}")
    if "description" in schema and not isinstance(schema["description"], str):
        problems.append(f"{where}.description must be a string")
    return problems


def _is(value: Any, kinds: list[Any]) -> bool:
    for kind in kinds:
        if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if kind == "null" and value is None:
            return True
        if kind in _PY and isinstance(value, _PY[kind]):
            return True
    return False


def _message_problems(where: str, message: Any) -> list[str]:
    if not isinstance(message, dict):
        return [f"{where} is not an object"]
    problems = [f"{where}: unknown field '{key}'" for key in message if key not in MESSAGE_FIELDS]
    if message.get("role") not in ROLES:
        problems.append(f"{where}.role must be one of {sorted(ROLES)}")
    problems += [p.replace("'", f"'{where}.", 1) for p in _typed(message, "content", str)]
    problems += [p.replace("'", f"'{where}.", 1) for p in _typed(message, "thinking", str)]
    problems += [p.replace("'", f"'{where}.", 1) for p in _typed(message, "tool_name", str)]
    calls = message.get("tool_calls", [])
    if not isinstance(calls, list):
        return [*problems, f"{where}.tool_calls must be a list"]
    for j, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            problems.append(f"{where}.tool_calls[{j}].function.name must be a string")
        elif not isinstance(function.get("arguments", {}), dict):
            # OpenAI sends arguments as a JSON string; Ollama wants the object itself.
            problems.append(f"{where}.tool_calls[{j}].function.arguments must be an object, not a string")
    return problems


def _format_problems(value: Any) -> list[str]:
    if value in ("", "json"):
        return []
    if not isinstance(value, dict):
        return ["'format' must be 'json' or a JSON schema object"]
    if value.get("type") != "object" or not isinstance(value.get("properties"), dict):
        return ["'format' schema must be an object schema with properties"]
    problems = []
    for name, schema in value["properties"].items():
        if not isinstance(schema, dict) or not ({"type", "enum", "anyOf", "$ref", "const"} & set(schema)):
            problems.append(f"'format' property '{name}' has no type")
    return problems


def _options_problems(options: Any) -> list[str]:
    if not isinstance(options, dict):
        return ["'options' must be an object"]
    problems = []
    for key, value in options.items():
        kind = OPTIONS.get(key)
        if kind is None:
            problems.append(f"unknown option '{key}' (Ollama would log 'invalid option' and ignore it)")
        elif kind == INT and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"option '{key}' must be an integer, not {value!r}")
        elif kind == FLOAT and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"option '{key}' must be a number, not {value!r}")
        elif kind == BOOL and not isinstance(value, bool):
            problems.append(f"option '{key}' must be true or false, not {value!r}")
        elif kind == "list[str]" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problems.append(f"option '{key}' must be a list of strings")
    if (
        isinstance(options.get("num_ctx"), int)
        and not isinstance(options["num_ctx"], bool)
        and options["num_ctx"] < 1
    ):
        problems.append("option 'num_ctx' must be positive")
    return problems


def _typed(body: dict[str, Any], key: str, kind: type) -> list[str]:
    if key in body and not isinstance(body[key], kind):
        return [f"'{key}' must be a {kind.__name__}, not {type(body[key]).__name__}"]
    return []
