using Paas.Controller.State;

namespace Paas.Controller.Auth;

/// <summary>Who is making the request: set by the authentication filter, read by endpoints.</summary>
public sealed record Caller(string Name, string Role, string TokenId)
{
    private const string ItemKey = "paas.caller";

    public bool IsAdmin => Role == TokenService.AdminRole;

    public static Caller From(TokenRecord token) => new(token.User, token.Role, token.Id);

    public void Attach(HttpContext context)
    {
        context.Items[ItemKey] = this;
        // Older endpoints read the actor's name for events.
        context.Items["paas.user"] = Name;
    }

    public static Caller Of(HttpContext context) =>
        context.Items[ItemKey] as Caller ?? throw new InvalidOperationException("The request was not authenticated.");
}
