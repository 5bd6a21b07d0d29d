using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Paas.Router.Table;

/// <summary>
/// An immutable string-keyed map split into <see cref="ShardCount"/> dictionaries, so the next snapshot
/// of a table copies only the shards a change wrote to, not the whole map. With 100,000 hosts a plain
/// dictionary copy per change is megabytes on the large-object heap, and that garbage brings on the
/// full collections that held route changes up for tens of milliseconds. A lookup costs one shard
/// choice more than a dictionary's; the shard array is small enough to stay in cache.
/// </summary>
internal sealed class ShardedMap<TValue> : IReadOnlyDictionary<string, TValue>
{
    private const int ShardBits = 8;
    private const int ShardCount = 1 << ShardBits;

    private readonly Dictionary<string, TValue>[] _shards;
    private readonly Dictionary<string, TValue>.AlternateLookup<ReadOnlySpan<char>>[] _spanLookups;
    private readonly bool _ignoreCase;

    private ShardedMap(Dictionary<string, TValue>[] shards, bool ignoreCase, int count)
    {
        _shards = shards;
        _ignoreCase = ignoreCase;
        Count = count;
        _spanLookups = new Dictionary<string, TValue>.AlternateLookup<ReadOnlySpan<char>>[ShardCount];
        for (var i = 0; i < ShardCount; i++)
        {
            _spanLookups[i] = shards[i].GetAlternateLookup<ReadOnlySpan<char>>();
        }
    }

    /// <param name="ignoreCase">Keys compare as <see cref="StringComparer.OrdinalIgnoreCase"/> (hostnames) rather than ordinally.</param>
    public static ShardedMap<TValue> Empty(bool ignoreCase)
    {
        var shards = new Dictionary<string, TValue>[ShardCount];
        var comparer = ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        for (var i = 0; i < ShardCount; i++)
        {
            shards[i] = new Dictionary<string, TValue>(comparer);
        }

        return new ShardedMap<TValue>(shards, ignoreCase, 0);
    }

    public int Count { get; }

    public TValue this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' is not in the map.");

    public IEnumerable<string> Keys => this.Select(pair => pair.Key);

    public IEnumerable<TValue> Values => this.Select(pair => pair.Value);

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) =>
        _shards[ShardOf(key, _ignoreCase)].TryGetValue(key, out value);

    public bool TryGetValue(ReadOnlySpan<char> key, [MaybeNullWhen(false)] out TValue value) =>
        _spanLookups[ShardOf(key, _ignoreCase)].TryGetValue(key, out value);

    public Builder ToBuilder() => new(this);

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator()
    {
        foreach (var shard in _shards)
        {
            foreach (var pair in shard)
            {
                yield return pair;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // FNV-1a over the key, folding ASCII case when keys ignore case. Characters outside ASCII add nothing:
    // that keeps keys that are equal ignoring case in one shard without knowing every script's case rules.
    private static int ShardOf(ReadOnlySpan<char> key, bool ignoreCase)
    {
        var hash = 2166136261u;
        var fold = ignoreCase ? 0x20u : 0u;
        foreach (var c in key)
        {
            hash = (hash ^ (c < 0x80 ? c | fold : 0u)) * 16777619u;
        }

        return (int)((hash * 2654435769u) >> (32 - ShardBits));
    }

    /// <summary>Writes towards the next map: a shard is copied the first time it is written, the rest are shared.</summary>
    public sealed class Builder
    {
        private readonly bool _ignoreCase;
        private ShardedMap<TValue> _published;
        private Dictionary<string, TValue>[] _shards;
        private readonly bool[] _owned = new bool[ShardCount];
        private bool _arrayOwned;
        private int _count;

        internal Builder(ShardedMap<TValue> map)
        {
            _ignoreCase = map._ignoreCase;
            _published = map;
            _shards = map._shards;
            _count = map.Count;
        }

        public int Count => _count;

        public IEnumerable<TValue> Values => _shards.SelectMany(shard => shard.Values);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) =>
            _shards[ShardOf(key, _ignoreCase)].TryGetValue(key, out value);

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public TValue? GetValueOrDefault(string key) => TryGetValue(key, out var value) ? value : default;

        public void Set(string key, TValue value)
        {
            var shard = Writable(key);
            var before = shard.Count;
            shard[key] = value;
            _count += shard.Count - before;
        }

        public bool Remove(string key)
        {
            if (!ContainsKey(key))
            {
                return false;
            }

            Writable(key).Remove(key);
            _count--;
            return true;
        }

        /// <summary>The map as written so far; later writes copy shards again, so it never changes under a reader.</summary>
        public ShardedMap<TValue> ToMap()
        {
            if (_arrayOwned)
            {
                _published = new ShardedMap<TValue>(_shards, _ignoreCase, _count);
                _arrayOwned = false;
                Array.Clear(_owned);
            }

            return _published;
        }

        private Dictionary<string, TValue> Writable(string key)
        {
            var index = ShardOf(key, _ignoreCase);
            if (!_owned[index])
            {
                if (!_arrayOwned)
                {
                    _shards = (Dictionary<string, TValue>[])_shards.Clone();
                    _arrayOwned = true;
                }

                _shards[index] = new Dictionary<string, TValue>(_shards[index], _shards[index].Comparer);
                _owned[index] = true;
            }

            return _shards[index];
        }
    }
}
