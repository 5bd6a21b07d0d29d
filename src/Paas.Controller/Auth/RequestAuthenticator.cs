using System.Text;
using Paas.Controller.State;

namespace Paas.Controller.Auth;

/// <summary>Finds the token on a request: a Bearer header for the API, or HTTP Basic (password = token) for git.</summary>
public sealed class RequestAuthenticator(TokenService tokens)
{
    public TokenRecord? Authenticate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return tokens.Verify(header["Bearer ".Length..].Trim());
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = decoded.IndexOf(':');
                return colon < 0 ? null : tokens.Verify(decoded[(colon + 1)..]);
            }
            catch (FormatException)
            {
                return null;
            }
        }
        return null;
    }
}
