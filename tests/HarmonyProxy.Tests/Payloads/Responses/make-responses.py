#!/usr/bin/env python3
# Writes the Responses API golden fixtures' inputs: <case>.responses-request.json (what the client
# sends) and, for cases with an output side, <case>.upstream.sse (llama-server's reply, made with
# ../make-upstream.py's helpers). The test writes the expected files:
#   cd tests/HarmonyProxy.Tests/Payloads/Responses && python3 make-responses.py
#   UPDATE_PAYLOADS=1 dotnet test HarmonyProxy.sln --filter ResponsesPayloadTests   # then read the diff
# Sealed reasoning in these fixtures is "sealed:<text>" (the test's stand-in for Data Protection).
import importlib.util, json, os
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("make_upstream", os.path.join(here, "..", "make-upstream.py"))
up = importlib.util.module_from_spec(spec); spec.loader.exec_module(up)
stream, raw, stripped, tokens = up.stream, up.raw, up.stripped, up.tokens

DEVELOPER = {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex, a coding agent."}]}
USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Write proof.txt and read it back."}]}
EXEC = {"type": "function", "name": "exec_command", "description": "Runs a command.", "strict": False,
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"], "additionalProperties": False}}
NAMESPACE = {"type": "namespace", "name": "multi_agent_v1", "description": "Agents.", "tools": [
    {"type": "function", "name": "spawn_agent", "description": "Spawn.", "strict": False, "parameters": {"type": "object", "properties": {"task": {"type": "string"}}}},
    {"type": "function", "name": "wait_agent", "description": "Wait.", "strict": False, "parameters": None}]}
APPLY_PATCH = {"type": "custom", "name": "apply_patch", "description": "Edit files with a patch.",
               "format": {"type": "grammar", "syntax": "lark", "definition": "start: begin_patch hunk+ end_patch"}}
CODEX_TOOLS = [EXEC, NAMESPACE, {"type": "web_search"}, APPLY_PATCH, {"type": "tool_search"}]
CODEX = {"model": "gpt-oss-20b", "tools": CODEX_TOOLS, "tool_choice": "auto", "parallel_tool_calls": True,
         "reasoning": {"summary": "auto"}, "store": False, "stream": True, "include": ["reasoning.encrypted_content"],
         "prompt_cache_key": "01a236b7-thread", "client_metadata": {"x": "ignored"}}

def reasoning(text, sealed=True, content=True):
    item = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": ("sealed:" + text) if sealed else None}
    if content: item["content"] = [{"type": "reasoning_text", "text": text}]
    return item
def call(call_id, name, arguments, namespace=None):
    item = {"type": "function_call", "id": "fc_" + call_id, "call_id": call_id, "name": name, "arguments": arguments}
    if namespace: item["namespace"] = namespace
    return item
def output(call_id, text): return {"type": "function_call_output", "call_id": call_id, "output": text}
def answer(text): return {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed", "content": [{"type": "output_text", "text": text, "annotations": []}]}

cases = {}
def case(name, request, upstream=None): cases[name] = (request, upstream)

TOOL_EXEC = "<|channel|>analysis<|message|>Write the file first.<|end|><|start|>assistant<|channel|>commentary to=functions.exec_command <|constrain|>json<|message|>{\"cmd\": \"echo hi > proof.txt\"}"
case("codex-first-turn", dict(CODEX, input=[DEVELOPER, USER]), stream(raw(TOOL_EXEC), usage=True))
case("codex-first-turn-stripped", dict(CODEX, input=[DEVELOPER, USER]), stream(stripped(TOOL_EXEC), usage=True))

P_ANSWER = [{"reasoning_content": t} for t in tokens("Both commands ran.")] + [{"content": t} for t in tokens("Done: proof.txt holds hi.")]
case("codex-replay", dict(CODEX, input=[DEVELOPER, USER,
    reasoning("Write the file first."), call("call_a", "exec_command", "{\"cmd\":\"echo hi > proof.txt\"}"), output("call_a", "exit 0"),
    reasoning("Ask a helper agent."), call("call_b", "spawn_agent", "{\"task\":\"cat proof.txt\"}", namespace="multi_agent_v1"), output("call_b", "hi")]),
    stream(P_ANSWER, usage=True))

case("codex-replay-tampered", dict(CODEX, input=[DEVELOPER, USER,
    dict(reasoning("Write the file first."), encrypted_content="not-a-blob"), call("call_a", "exec_command", "{\"cmd\":\"ls\"}"), output("call_a", "proof.txt"),
    dict(reasoning("Only the blob knows this.", content=False), encrypted_content="forged"), call("call_b", "exec_command", "{\"cmd\":\"cat proof.txt\"}"), output("call_b", "hi")]))

case("final-answer-drops-earlier-reasoning", {"model": "gpt-oss-20b", "stream": False, "tools": [EXEC], "input": [USER,
    reasoning("Earlier turn thinking.", sealed=False), answer("Earlier answer."),
    {"type": "message", "role": "user", "content": "Now list the files."},
    reasoning("List them with ls.", sealed=False), answer("Listing now."), call("call_c", "exec_command", "{\"cmd\":\"ls\"}"), output("call_c", "proof.txt")]},
    stream(raw("<|channel|>analysis<|message|>One file.<|end|><|start|>assistant<|channel|>final<|message|>There is proof.txt."), usage=True))

P_PATCH = [{"reasoning_content": t} for t in tokens("Patch the file.")] + [
    {"tool_calls": [{"index": 0, "id": "patchcall1", "type": "function", "function": {"name": "apply_patch", "arguments": "{\"input\":"}}]}] + [
    {"tool_calls": [{"index": 0, "function": {"arguments": a}}]} for a in ["\"*** Begin Patch\\n", "*** Add File: a.txt\\n+hi\\n", "*** End Patch\"}"]]
case("custom-tool-call", dict(CODEX, input=[DEVELOPER, USER]), stream(P_PATCH, finish="tool_calls", usage=True))
case("custom-tool-call-replay", dict(CODEX, input=[DEVELOPER, USER, reasoning("Patch the file."),
    {"type": "custom_tool_call", "id": "ctc_1", "call_id": "patchcall1", "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"},
    {"type": "custom_tool_call_output", "call_id": "patchcall1", "output": "Done!"}]))

P_TWO = [{"reasoning_content": "Two reads."},
    {"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "exec_command", "arguments": "{\"cmd\":\"cat a\"}"}}]},
    {"tool_calls": [{"index": 1, "id": "c2", "type": "function", "function": {"name": "multi_agent_v1__wait_agent", "arguments": "{}"}}]}]
case("parallel-calls-with-namespace", dict(CODEX, input=[USER]), stream(P_TWO, finish="tool_calls", usage=True))

case("options-and-string-input", {"model": "gpt-oss-20b", "input": "Summarise the design.", "instructions": "Answer in JSON.",
    "max_output_tokens": 64, "temperature": 0.2, "top_p": 0.9, "reasoning": {"effort": "high"}, "metadata": {"ticket": "42"},
    "text": {"format": {"type": "json_schema", "name": "summary", "strict": True, "schema": {"type": "object", "properties": {"summary": {"type": "string"}}}}},
    "tools": [EXEC], "tool_choice": {"type": "function", "name": "exec_command"}, "parallel_tool_calls": False, "user": "u1", "stream": False},
    stream(raw("<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>{\"summary\": \"cut"), finish="length", usage=True))

case("error-after-output", {"model": "gpt-oss-20b", "input": "Hi", "stream": True},
    stream(raw("<|channel|>analysis<|message|>Greet.<|end|><|start|>assistant<|channel|>final<|message|>One two"), finish=None, done=False,
           tail=up.ev({"error": {"code": 500, "message": "slot 0: out of memory", "type": "server_error"}})))

for name, (request, upstream) in cases.items():
    open(f"{name}.responses-request.json", "w").write(json.dumps(request, indent=2) + "\n")
    if upstream is not None:
        open(f"{name}.upstream.sse", "w").write(upstream)
print(len(cases))
