#!/usr/bin/env python3
# Writes the golden fixtures' upstream side: <case>.upstream.sse in llama-server's exact framing
# (role chunk with content null, one delta per token, finish chunk, usage chunk, [DONE]) and
# <case>.case.json (the client's options). The client side is written by the test itself:
#   cd tests/HarmonyProxy.Tests/Payloads && python3 make-upstream.py
# (Responses/make-responses.py imports its helpers.)
#   UPDATE_PAYLOADS=1 dotnet test HarmonyProxy.sln --filter GoldenPayloadTests   # then read the diff
import json, re, os
ENV = {"created":1761672368,"id":"chatcmpl-vHnyyi5Z6RRKTtbLzBj23g4Hf8jOhXs5","model":"gpt-oss-20b","system_fingerprint":"b6865-1c1409e13","object":"chat.completion.chunk"}
def chunk(delta=None, finish=None, extra=None, choices=True):
    c = {}
    if choices:
        c["choices"] = [{"finish_reason": finish, "index": 0, "delta": delta if delta is not None else {}}]
        if extra: c["choices"][0].update(extra)
    else:
        c["choices"] = []
    c.update(ENV)
    return c
def ev(obj): return "data: " + json.dumps(obj, separators=(",",":"), ensure_ascii=False) + "\n\n"
TOKEN = re.compile(r"<\|[a-z]+\|>|\s*[^\s<]+|\s+|<")
def tokens(raw):
    out=[]
    for m in TOKEN.finditer(raw):
        p=m.group(0)
        if p.startswith("<|"): out.append(p); continue
        for i in range(0,len(p),8): out.append(p[i:i+8])
    return out
def stream(deltas, finish="stop", usage=False, done=True, tail=""):
    s = ev(chunk({"role":"assistant","content":None}))
    for d in deltas: s += ev(chunk(d))
    if finish is not None:
        s += ev(chunk({}, finish))
        if usage:
            u = chunk(choices=False); u["usage"]={"completion_tokens":len(deltas),"prompt_tokens":139,"total_tokens":139+len(deltas)}
            s += ev(u)
    s += tail
    if done: s += "data: [DONE]\n\n"
    return s
def raw(text): return [{"content":t} for t in tokens(text)]
def stripped(text): return [{"content":t} for t in tokens(text) if not t.startswith("<|")]
ANSWER = "<|channel|>analysis<|message|>The user greets us. Answer briefly.<|end|><|start|>assistant<|channel|>final<|message|>Hello! How can I help?"
TOOL = "<|channel|>analysis<|message|>Need the file.<|end|><|start|>assistant<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>{\"path\": \"a.py\"}"
PREAMBLE = "<|channel|>analysis<|message|>Plan.<|end|><|start|>assistant<|channel|>commentary<|message|>I'll read it first.<|end|><|start|>assistant<|channel|>commentary to=functions.read_file <|constrain|>json<|message|>{\"path\": \"a.py\"}"
cases = {}
def case(name, body, **opts):
    cases[name] = (body, opts)
case("raw-answer", stream(raw(ANSWER)))
case("raw-answer-think-tags", stream(raw(ANSWER)), reasoning="think_tags")
case("raw-answer-reasoning-none", stream(raw(ANSWER)), reasoning="none")
case("raw-answer-json", stream(raw(ANSWER), usage=True), stream=False)
case("raw-tool-call", stream(raw(TOOL)))
case("raw-tool-call-text", stream(raw(TOOL)), toolCalls="text")
case("raw-tool-call-drop", stream(raw(TOOL)), toolCalls="drop")
case("raw-tool-call-json", stream(raw(TOOL), usage=True), stream=False)
case("raw-preamble-tool-call", stream(raw(PREAMBLE)))
case("raw-usage", stream(raw(ANSWER), usage=True), includeUsage=True)
case("raw-truncated", stream(raw("<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>A long answer that gets"), finish="length"))
case("raw-error-after-output", stream(raw("<|channel|>final<|message|>One two three"), finish=None, done=False, tail=ev({"error":{"code":500,"message":"Failed to parse input at pos 40: <|channel|>??","type":"server_error"}})))
case("raw-legacy-error-line", stream(raw("<|channel|>final<|message|>One two three"), finish=None, done=True, tail='error: {"code":500,"message":"slot 0: out of memory","type":"server_error"}\n\n'))
case("raw-watchdog", stream(raw("<|channel|>final<|message|>One two three"), finish=None, done=False), end="watchdog")
case("raw-stray-to-assistant", stream(raw("<|channel|>commentary to=assistant<|channel|>analysis<|message|>thinking<|end|><|start|>assistant<|channel|>final<|message|>Hi")))
case("raw-leading-text", stream(raw("I can't help with that.<|end|><|start|>assistant<|channel|>final<|message|>Sorry, I can't help.")))
case("stripped-answer", stream(stripped(ANSWER)))
case("stripped-tool-call", stream(stripped(TOOL)))
case("stripped-answer-json", stream(stripped(ANSWER), usage=True), stream=False)
P_ANSWER = [{"reasoning_content":t} for t in tokens("The user greets us. Answer briefly.")] + [{"content":t} for t in tokens("Hello! How can I help?")]
P_TOOL = [{"reasoning_content":t} for t in tokens("Need the file.")] + [{"tool_calls":[{"index":0,"id":"tNkZIM2wWGCzRoFvK6X0TdhHhAYj6fVY","type":"function","function":{"name":"read_file","arguments":"{\""}}]}] + [{"tool_calls":[{"index":0,"function":{"arguments":a}}]} for a in ["path","\":\"","a.py","\"}"]]
case("parsed-answer", stream(P_ANSWER))
case("parsed-answer-json", stream(P_ANSWER, usage=True), stream=False)
case("parsed-tool-call", stream(P_TOOL, finish="tool_calls"))
case("parsed-tool-call-json", stream(P_TOOL, finish="tool_calls", usage=True), stream=False)
case("parsed-analysis-only-json", stream([{"reasoning_content":t} for t in tokens("Plan the essay: history, design, open questions.")], finish="length", usage=True), stream=False)
case("parsed-leaked-tags", stream([{"reasoning_content":"Think."}] + [{"content":t} for t in tokens("Partial<|end|><|start|>assistant<|channel|>final<|message|>Hello!")]))
case("parsed-quoted-tags", stream([{"reasoning_content":"Explain."}] + [{"content":t} for t in tokens("Use `<|channel|>` to start a header.")]))
case("parsed-usage-think-tags", stream(P_ANSWER, usage=True), includeUsage=True, reasoning="think_tags")
LP = lambda tok, lp: {"content":[{"id":1,"token":tok,"logprob":lp,"bytes":list(tok.encode()),"top_logprobs":[]}]}
lp_stream = ev(chunk({"role":"assistant","content":None}))
lp_stream += ev(chunk({"reasoning_content":"Greet."}))
for t, l in [("Hi", -0.1), (" there", -0.2)]:
    lp_stream += ev(chunk({"content":t}, extra={"logprobs":LP(t,l)}))
lp_stream += ev(chunk({}, "stop")) + "data: [DONE]\n\n"
case("parsed-logprobs", lp_stream)
case("raw-empty-final-json", stream(raw("<|channel|>analysis<|message|>Nothing to add.<|end|><|start|>assistant<|channel|>final<|message|>"), usage=True), stream=False)
case("plain-text", stream(raw("Just a plain answer from a model that does not speak Harmony, long enough to stream before the end.")))
if __name__ == "__main__":
    for name,(body,opts) in cases.items():
        open(f"{name}.upstream.sse","w").write(body)
        o = {"stream": True, "reasoning": "reasoning_content", "toolCalls": "native", "includeUsage": False, "end": "done"}
        o.update(opts)
        open(f"{name}.case.json","w").write(json.dumps(o, indent=2) + "\n")
    print(len(cases))
