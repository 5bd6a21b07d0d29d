using System.Globalization;

namespace Paas.Controller.Api;

/// <summary>
/// Lists come a page at a time: `?limit=N` (default 100, at most 1000) and `?after=CURSOR`, where the cursor
/// is the key of the last item of the previous page. The body stays a plain JSON array; when more remain,
/// a `Link: <…>; rel="next"` header (as GitHub does) and `Next-Range` (as Heroku does) point at the next page.
/// </summary>
public static class Paging
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static IResult Page<T>(HttpContext context, IEnumerable<T> ordered, Func<T, string> cursorOf, Func<T, object> shape)
    {
        var query = context.Request.Query;
        var limit = DefaultLimit;
        if (query["limit"].ToString() is { Length: > 0 } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
            return ApiError.Result(StatusCodes.Status400BadRequest, "invalid_limit", $"limit must be a whole number from 1 to {MaxLimit}.");
        var after = query["after"].ToString();
        var all = ordered.ToList();
        var start = 0;
        if (after.Length > 0)
        {
            // A cursor that names nothing (its item was deleted between pages) must not read as "no more":
            // the client would stop early and silently miss the rest.
            var index = all.FindIndex(i => cursorOf(i) == after);
            if (index < 0)
                return ApiError.Result(StatusCodes.Status400BadRequest, "invalid_cursor", "The after cursor matches no item (it may have been deleted); start again from the first page.");
            start = index + 1;
        }
        var page = all.Skip(start).Take(limit + 1).ToList();
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            var cursor = cursorOf(page[^1]);
            var next = $"{context.Request.PathBase}{context.Request.Path}?limit={limit}&after={Uri.EscapeDataString(cursor)}";
            context.Response.Headers.Link = $"<{next}>; rel=\"next\"";
            context.Response.Headers["Next-Range"] = $"]{cursor}..; max={limit}";
        }
        return Results.Json(page.Select(shape));
    }
}
