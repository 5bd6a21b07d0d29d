namespace Paas.EndToEnd.Tests.Infrastructure;

/// <summary>End-to-end tests share one platform; starting one costs seconds, and tests use distinct app names.</summary>
[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>
{
    public const string Name = "platform";
}
