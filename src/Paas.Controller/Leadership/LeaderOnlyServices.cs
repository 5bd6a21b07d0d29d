using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Paas.Controller.Leadership;

/// <summary>
/// The hosted services only the leader runs, in start order: every loop that changes state (convergence,
/// deploy recovery, pruning). Add one with <see cref="LeaderOnlyServiceCollectionExtensions.AddLeaderOnly{T}"/>;
/// <see cref="LeadershipService"/> starts them when this controller is elected.
/// </summary>
public sealed class LeaderOnlyServices
{
    private readonly List<Type> _types = [];

    public IReadOnlyList<Type> Types => _types;

    internal void Add(Type type)
    {
        if (!_types.Contains(type))
            _types.Add(type);
    }
}

public static class LeaderOnlyServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="T"/> as a singleton that only the leader starts (instead of AddHostedService).</summary>
    public static IServiceCollection AddLeaderOnly<T>(this IServiceCollection services) where T : class, IHostedService =>
        services.AddLeaderOnly<T>(descriptor: ServiceDescriptor.Singleton<T, T>());

    /// <summary>As <see cref="AddLeaderOnly{T}(IServiceCollection)"/>, for a service made by <paramref name="factory"/>.</summary>
    public static IServiceCollection AddLeaderOnly<T>(this IServiceCollection services, Func<IServiceProvider, T> factory) where T : class, IHostedService =>
        services.AddLeaderOnly<T>(descriptor: ServiceDescriptor.Singleton(factory));

    private static IServiceCollection AddLeaderOnly<T>(this IServiceCollection services, ServiceDescriptor descriptor) where T : class, IHostedService
    {
        var list = services.Select(d => d.ImplementationInstance).OfType<LeaderOnlyServices>().FirstOrDefault();
        if (list is null)
        {
            list = new LeaderOnlyServices();
            services.AddSingleton(list);
        }
        services.TryAdd(descriptor);
        list.Add(typeof(T));
        return services;
    }
}
