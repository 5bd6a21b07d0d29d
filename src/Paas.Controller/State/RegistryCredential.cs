using System.Text.Json.Serialization;

namespace Paas.Controller.State;

/// <summary>
/// An app's login to one image registry (`paas registry:login`), used when the app deploys an image from that
/// registry without credentials of its own. Stored as config vars are (the pull needs the password itself, so it
/// cannot be hashed), and, like them, never logged or answered: the API shows the username and a masked password.
/// </summary>
public sealed record RegistryCredential(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password);
