using HarmonyProxy.Upstream;

namespace HarmonyProxy.Tests.Upstream;

public sealed class LlamaServerErrorsTests
{
    [Theory]
    [InlineData(500, "Failed to parse input at pos 12: <|channel|>??", UpstreamErrorKind.ParseFailure)]
    [InlineData(500, "The model produced output that does not match the expected peg-native format", UpstreamErrorKind.ParseFailure)]
    [InlineData(500, "Invalid diff: 'x' not found at start of 'y'", UpstreamErrorKind.ParseFailure)]
    [InlineData(500, "Cannot pass both content and thinking in an assistant message with tool calls! Put the final response in content.", UpstreamErrorKind.TemplateHistory)]
    [InlineData(500, "You have passed a message containing <|channel|> tags in the content field.", UpstreamErrorKind.TemplateHistory)]
    [InlineData(500, "Unsupported tool type", UpstreamErrorKind.Deterministic)]
    [InlineData(500, "[json.exception.parse_error.101] parse error at line 1", UpstreamErrorKind.Deterministic)]
    [InlineData(500, null, UpstreamErrorKind.Deterministic)]
    [InlineData(501, "not supported", UpstreamErrorKind.Deterministic)]
    [InlineData(400, "request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it", UpstreamErrorKind.Deterministic)]
    [InlineData(400, "Failed to parse input at pos 0", UpstreamErrorKind.Deterministic)]
    [InlineData(401, "Invalid API Key", UpstreamErrorKind.Deterministic)]
    [InlineData(404, "File Not Found", UpstreamErrorKind.Deterministic)]
    [InlineData(408, null, UpstreamErrorKind.Transient)]
    [InlineData(429, null, UpstreamErrorKind.Transient)]
    [InlineData(502, null, UpstreamErrorKind.Transient)]
    [InlineData(503, "Loading model", UpstreamErrorKind.Transient)]
    [InlineData(504, null, UpstreamErrorKind.Transient)]
    public void Classify_StatusAndMessage(int status, string? message, object expected)
    {
        // Theory parameters are object: the error kinds are internal to the proxy.
        Assert.Equal((UpstreamErrorKind)expected, LlamaServerErrors.Classify(status, message));
    }

    [Theory]
    [InlineData("Failed to parse input at pos 0: x", "server_error", "500", UpstreamErrorKind.ParseFailure)]
    [InlineData("Failed to parse input at pos 0: x", "server_error", null, UpstreamErrorKind.ParseFailure)]
    [InlineData("slot crashed", "server_error", "500", UpstreamErrorKind.Deterministic)]
    [InlineData("Loading model", "unavailable_error", null, UpstreamErrorKind.Transient)]
    [InlineData("busy", "server_error", "503", UpstreamErrorKind.Transient)]
    public void MidStreamError_IsClassifiedByItsCodeOrType(string message, string type, string? code, object expected)
    {
        var failure = UpstreamFailure.MidStream(message, type, code);

        Assert.Equal((UpstreamErrorKind)expected, failure.Kind);
        Assert.Equal(502, failure.Status);
        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
    }
}
