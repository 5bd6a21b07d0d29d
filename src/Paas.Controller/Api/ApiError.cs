namespace Paas.Controller.Api;

/// <summary>Every API error: a stable id for programs and one sentence for people.</summary>
public sealed record ApiError(string Id, string Message)
{
    public static IResult Result(int status, string id, string message) =>
        Results.Json(new ApiError(id, message), statusCode: status);
}
