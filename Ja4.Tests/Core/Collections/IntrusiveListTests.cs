using Ja4.Modules.Core.Collections;

namespace Ja4.Tests.Core.Collections;

public sealed class IntrusiveListTests
{
    private sealed class Node(int value) : IntrusiveListNode<Node>
    {
        public int Value { get; } = value;
    }

    private static List<int> Walk(IntrusiveList<Node> list)
    {
        var values = new List<int>();
        for (var n = list.Head; n is not null; n = n.ListNext)
        {
            values.Add(n.Value);
        }
        return values;
    }

    [Fact]
    public void Keeps_insertion_order_through_moves_and_removals()
    {
        var list = new IntrusiveList<Node>();
        var nodes = Enumerable.Range(0, 5).Select(i => new Node(i)).ToArray();
        foreach (var n in nodes)
        {
            list.AddLast(n);
        }
        list.MoveToEnd(nodes[0]);          // 1 2 3 4 0
        list.Remove(nodes[3]);             // 1 2 4 0
        list.MoveToEnd(nodes[0]);          // already last
        list.Remove(nodes[1]);             // head: 2 4 0
        Assert.Equal([2, 4, 0], Walk(list));
        Assert.Same(nodes[2], list.Head);
        Assert.Same(nodes[0], list.Tail);
        Assert.False(list.Contains(nodes[1]));
        Assert.False(list.Contains(nodes[3]));
        Assert.True(list.Contains(nodes[2]));
        Assert.True(list.Contains(nodes[0]));
    }

    [Fact]
    public void Removing_the_only_element_empties_the_list()
    {
        var list = new IntrusiveList<Node>();
        var n = new Node(1);
        list.AddLast(n);
        list.Remove(n);
        Assert.Null(list.Head);
        Assert.Null(list.Tail);
        Assert.False(list.Contains(n));
        list.AddLast(n);
        Assert.Equal([1], Walk(list));
    }
}
