using Paas.Controller.State;

namespace Paas.Controller.Api;

/// <summary>
/// Makes every failure under /v1 answer like the API's own errors (JSON with an id and one sentence):
/// unreadable request bodies, unknown routes and wrong methods, which ASP.NET would otherwise answer with
/// an empty body.
/// </summary>
public static class ApiErrorMiddleware
{
    public static void UseApiErrors(this WebApplication app)
    {
        // A state store that cannot commit (etcd without quorum) answers 503 with its one sentence, on every path.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (StateStoreUnavailableException e) when (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ApiError.Result(StatusCodes.Status503ServiceUnavailable, "state_store_unavailable", e.Message).ExecuteAsync(context);
            }
        });
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/v1"))
            {
                await next(context);
                return;
            }
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ApiError.Result(e.StatusCode, "bad_request", Describe(e)).ExecuteAsync(context);
                return;
            }
            if (context.Response.HasStarted || context.Response.ContentLength > 0 || context.Response.ContentType is not null)
                return;
            if (context.Response.StatusCode == StatusCodes.Status404NotFound)
                await ApiError.Result(404, "no_such_route", $"There is no API route {context.Request.Method} {context.Request.Path}; see /openapi/v1.json.").ExecuteAsync(context);
            else if (context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed)
                await ApiError.Result(405, "method_not_allowed", $"{context.Request.Path} does not take {context.Request.Method}.").ExecuteAsync(context);
        });
    }

    private static string Describe(BadHttpRequestException e) =>
        e.InnerException is System.Text.Json.JsonException
            ? "The request body is not valid JSON for this endpoint."
            : e.StatusCode == StatusCodes.Status415UnsupportedMediaType
                ? "Send the request body as JSON (Content-Type: application/json)."
                : "The request could not be read: " + e.Message.TrimEnd('.') + ".";
}
