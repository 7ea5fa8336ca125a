namespace Ja4.Modules.Core.Collections;

/// <summary>
/// An element of an <see cref="IntrusiveList{T}"/>: the links live in the element itself, so
/// that appending, moving and removing are O(1) and allocate nothing. An element is in at most
/// one list at a time.
/// </summary>
public abstract class IntrusiveListNode<T> where T : IntrusiveListNode<T>
{
    internal T? ListPrevious;
    internal T? ListNext;
}

/// <summary>
/// A doubly linked list of <see cref="IntrusiveListNode{T}"/> elements, oldest first: the recency
/// order of the capture module's flow tables and of correlation's connection table (eviction at a
/// cap and idle expiry take the head). Not thread-safe: one thread owns it.
/// </summary>
public sealed class IntrusiveList<T> where T : IntrusiveListNode<T>
{
    /// <summary>The first (oldest) element, or null.</summary>
    public T? Head { get; private set; }

    /// <summary>The last (youngest) element, or null.</summary>
    public T? Tail { get; private set; }

    /// <summary>True when <paramref name="e"/> is in this list (it is in no other one).</summary>
    public bool Contains(T e) => e.ListPrevious is not null || ReferenceEquals(Head, e);

    public void AddLast(T e)
    {
        e.ListPrevious = Tail;
        e.ListNext = null;
        if (Tail is null)
        {
            Head = e;
        }
        else
        {
            Tail.ListNext = e;
        }
        Tail = e;
    }

    public void Remove(T e)
    {
        if (e.ListPrevious is null)
        {
            Head = e.ListNext;
        }
        else
        {
            e.ListPrevious.ListNext = e.ListNext;
        }
        if (e.ListNext is null)
        {
            Tail = e.ListPrevious;
        }
        else
        {
            e.ListNext.ListPrevious = e.ListPrevious;
        }
        e.ListPrevious = null;
        e.ListNext = null;
    }

    /// <summary>Moves an element of this list to the young end.</summary>
    public void MoveToEnd(T e)
    {
        if (ReferenceEquals(Tail, e))
        {
            return;
        }
        Remove(e);
        AddLast(e);
    }
}
