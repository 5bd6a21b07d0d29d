using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Paas.Router.Table;

/// <summary>
/// An immutable string-keyed map split into <see cref="ShardCount"/> shards, so the next snapshot of a
/// table copies only the shards a change wrote to, not the whole map. With 100,000 hosts a plain
/// dictionary copy per change is megabytes on the large-object heap, and that garbage brings on the
/// full collections that held route changes up for tens of milliseconds.
/// </summary>
/// <remarks>
/// Each shard is an open-addressed array of (hash, key, value) slots, and one hash of the key picks both
/// the shard and the slot. With 100,000 apps a lookup is a cache miss per distinct place it reads: a
/// dictionary reads a bucket array, then an entry array, then the key; here it is one slot, then the key.
/// </remarks>
internal sealed class ShardedMap<TValue> : IReadOnlyDictionary<string, TValue>
{
    private const int ShardBits = 8;
    private const int ShardCount = 1 << ShardBits;

    private readonly Shard[] _shards;
    private readonly bool _ignoreCase;

    private ShardedMap(Shard[] shards, bool ignoreCase, int count)
    {
        _shards = shards;
        _ignoreCase = ignoreCase;
        Count = count;
    }

    /// <param name="ignoreCase">Keys compare as <see cref="StringComparer.OrdinalIgnoreCase"/> (hostnames) rather than ordinally.</param>
    public static ShardedMap<TValue> Empty(bool ignoreCase) => new(Enumerable.Repeat(Shard.Empty, ShardCount).ToArray(), ignoreCase, 0);

    public int Count { get; }

    public TValue this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"'{key}' is not in the map.");

    public IEnumerable<string> Keys => this.Select(pair => pair.Key);

    public IEnumerable<TValue> Values => this.Select(pair => pair.Value);

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) => TryGetValue(key.AsSpan(), out value);

    public bool TryGetValue(ReadOnlySpan<char> key, [MaybeNullWhen(false)] out TValue value)
    {
        var hash = Hash(key, _ignoreCase);
        return _shards[hash >> (64 - ShardBits)].TryGetValue(key, hash, _ignoreCase, out value);
    }

    public Builder ToBuilder() => new(this);

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator()
    {
        foreach (var shard in _shards)
        {
            foreach (var slot in shard.Slots)
            {
                if (slot.Key is not null)
                {
                    yield return new(slot.Key, slot.Value);
                }
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // FNV-1a over the key, folding ASCII case when keys ignore case, then spread over 64 bits: the top bits
    // choose the shard, the next ones the slot. Characters outside ASCII add nothing, which keeps keys that
    // are equal ignoring case on one hash without knowing every script's case rules.
    private static ulong Hash(ReadOnlySpan<char> key, bool ignoreCase)
    {
        var hash = 2166136261u;
        var fold = ignoreCase ? 0x20u : 0u;
        foreach (var c in key)
        {
            hash = (hash ^ (c < 0x80 ? c | fold : 0u)) * 16777619u;
        }

        return hash * 0x9E3779B97F4A7C15ul;
    }

    private static bool KeyEquals(ReadOnlySpan<char> key, string candidate, bool ignoreCase) =>
        ignoreCase ? key.Equals(candidate, StringComparison.OrdinalIgnoreCase) : key.SequenceEqual(candidate);

    private struct Slot
    {
        public ulong Hash;
        public string? Key;
        public TValue Value;
    }

    /// <summary>One frozen shard: a power-of-two slot array at most half full, probed linearly.</summary>
    private sealed class Shard
    {
        public static readonly Shard Empty = new([]);

        private readonly int _shift;

        private Shard(Slot[] slots)
        {
            Slots = slots;
            _shift = slots.Length <= 1 ? 63 : 64 - int.Log2(slots.Length);
        }

        public Slot[] Slots { get; }

        public static Shard Freeze(Dictionary<string, TValue> entries, bool ignoreCase)
        {
            if (entries.Count == 0)
            {
                return Empty;
            }

            var slots = new Slot[(int)BitOperations.RoundUpToPowerOf2((uint)entries.Count * 2)];
            var shard = new Shard(slots);
            var mask = slots.Length - 1;
            foreach (var (key, value) in entries)
            {
                var hash = Hash(key, ignoreCase);
                var index = shard.Home(hash);
                while (slots[index].Key is not null)
                {
                    index = (index + 1) & mask;
                }

                slots[index] = new Slot { Hash = hash, Key = key, Value = value };
            }

            return shard;
        }

        public bool TryGetValue(ReadOnlySpan<char> key, ulong hash, bool ignoreCase, [MaybeNullWhen(false)] out TValue value)
        {
            var slots = Slots;
            if (slots.Length > 0)
            {
                var mask = slots.Length - 1;
                for (var index = Home(hash); slots[index].Key is { } candidate; index = (index + 1) & mask)
                {
                    if (slots[index].Hash == hash && KeyEquals(key, candidate, ignoreCase))
                    {
                        value = slots[index].Value;
                        return true;
                    }
                }
            }

            value = default;
            return false;
        }

        public Dictionary<string, TValue> Thaw(bool ignoreCase)
        {
            var entries = new Dictionary<string, TValue>(Slots.Length / 2, ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            foreach (var slot in Slots)
            {
                if (slot.Key is not null)
                {
                    entries[slot.Key] = slot.Value;
                }
            }

            return entries;
        }

        // The bits just below the shard bits, so keys in one shard still spread over its slots.
        private int Home(ulong hash) => (int)((hash << ShardBits) >> _shift) & (Slots.Length - 1);
    }

    /// <summary>Writes towards the next map: a shard is copied the first time it is written, the rest are shared.</summary>
    public sealed class Builder
    {
        private readonly bool _ignoreCase;
        private readonly Dictionary<string, TValue>?[] _writable = new Dictionary<string, TValue>?[ShardCount];
        private ShardedMap<TValue> _published;
        private bool _written;
        private int _count;

        internal Builder(ShardedMap<TValue> map)
        {
            _ignoreCase = map._ignoreCase;
            _published = map;
            _count = map.Count;
        }

        public int Count => _count;

        public IEnumerable<TValue> Values => Enumerable.Range(0, ShardCount).SelectMany(ValuesOf);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value)
        {
            var hash = Hash(key, _ignoreCase);
            var index = ShardOf(hash);
            return _writable[index] is { } writable
                ? writable.TryGetValue(key, out value)
                : _published._shards[index].TryGetValue(key, hash, _ignoreCase, out value);
        }

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
            if (!_written)
            {
                return _published;
            }

            var shards = (Shard[])_published._shards.Clone();
            for (var i = 0; i < ShardCount; i++)
            {
                if (_writable[i] is { } writable)
                {
                    shards[i] = Shard.Freeze(writable, _ignoreCase);
                    _writable[i] = null;
                }
            }

            _published = new ShardedMap<TValue>(shards, _ignoreCase, _count);
            _written = false;
            return _published;
        }

        private static int ShardOf(ulong hash) => (int)(hash >> (64 - ShardBits));

        private IEnumerable<TValue> ValuesOf(int index) =>
            _writable[index] is { } writable
                ? writable.Values
                : _published._shards[index].Slots.Where(slot => slot.Key is not null).Select(slot => slot.Value);

        private Dictionary<string, TValue> Writable(string key)
        {
            var index = ShardOf(Hash(key, _ignoreCase));
            _written = true;
            return _writable[index] ??= _published._shards[index].Thaw(_ignoreCase);
        }
    }
}
