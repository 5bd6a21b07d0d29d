namespace Paas.Controller.State;

/// <summary>
/// The state store cannot make a write durable (an etcd cluster without quorum) or cannot be read at all.
/// Its message is one sentence for the user; the API answers it with 503.
/// </summary>
public sealed class StateStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
